"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.feature_scaling import standardization, zero_centering
from keras_recipes.recipes.image_augmentation import image_augmentation
from keras_recipes.recipes.initializers import INITIALIZER_FOR_ACTIVATION, initializer_for
from keras_recipes.recipes.mixing import cutmix, mixup
from keras_recipes.recipes.mlp import classifier, mlp, regressor
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer
from keras_recipes.recipes.pca_whitening import PCAWhitening
from keras_recipes.recipes.radam import RAdam

__all__ = [
    "DropConnect",
    "INITIALIZER_FOR_ACTIVATION",
    "OPTIMIZERS",
    "PCAWhitening",
    "RAdam",
    "classifier",
    "cutmix",
    "dense_block",
    "image_augmentation",
    "initializer_for",
    "kernel_regularizer",
    "make_optimizer",
    "mixup",
    "mlp",
    "regressor",
    "standardization",
    "zero_centering",
]
