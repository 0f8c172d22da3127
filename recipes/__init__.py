"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.feature_scaling import standardization
from keras_recipes.recipes.feature_scaling import zero_centering
from keras_recipes.recipes.pca_whitening import PCAWhitening

__all__ = [
    "PCAWhitening",
    "standardization",
    "zero_centering",
]
