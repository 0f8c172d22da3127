"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.radam import RAdam

__all__ = ["DropConnect", "RAdam"]
