"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.radam import RAdam

__all__ = ["RAdam"]
