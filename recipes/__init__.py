"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.initializers import INITIALIZER_FOR_ACTIVATION, initializer_for
from keras_recipes.recipes.mlp import classifier, mlp, regressor
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer

__all__ = [
    "INITIALIZER_FOR_ACTIVATION",
    "OPTIMIZERS",
    "classifier",
    "dense_block",
    "initializer_for",
    "kernel_regularizer",
    "make_optimizer",
    "mlp",
    "regressor",
]
