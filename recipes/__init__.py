"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.feature_scaling import standardization
from keras_recipes.recipes.feature_scaling import zero_centering
from keras_recipes.recipes.image_augmentation import image_augmentation
from keras_recipes.recipes.mixing import cutmix
from keras_recipes.recipes.mixing import mixup
from keras_recipes.recipes.pca_whitening import PCAWhitening

__all__ = [
    "PCAWhitening",
    "cutmix",
    "image_augmentation",
    "mixup",
    "standardization",
    "zero_centering",
]
