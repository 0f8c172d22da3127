"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.initializers import INITIALIZER_FOR_ACTIVATION, initializer_for
from keras_recipes.recipes.mlp import classifier, mlp, regressor
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer
from keras_recipes.recipes.radam import RAdam

__all__ = [
    "DropConnect",
    "INITIALIZER_FOR_ACTIVATION",
    "OPTIMIZERS",
    "RAdam",
    "classifier",
    "dense_block",
    "initializer_for",
    "kernel_regularizer",
    "make_optimizer",
    "mlp",
    "regressor",
]
