"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.autoencoders import (
    NOISE_KINDS,
    Autoencoder,
    MaskingNoise,
    autoencoder,
    denoising_autoencoder,
)
from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.ensembles import (
    COMBINATION_METHODS,
    EnsembleAverage,
    ensemble,
    train_ensemble,
)
from keras_recipes.recipes.initializers import INITIALIZER_FOR_ACTIVATION, initializer_for
from keras_recipes.recipes.mlp import classifier, mlp, regressor
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer
from keras_recipes.recipes.radam import RAdam
from keras_recipes.recipes.snapshot_ensembles import (
    SnapshotEnsemble,
    cyclic_cosine_learning_rate,
    with_weight_averaging,
)
from keras_recipes.recipes.stacked_autoencoders import (
    greedy_pretrain,
    stacked_autoencoder,
    train_stacked_autoencoder,
)

__all__ = [
    "Autoencoder",
    "COMBINATION_METHODS",
    "DropConnect",
    "EnsembleAverage",
    "INITIALIZER_FOR_ACTIVATION",
    "MaskingNoise",
    "NOISE_KINDS",
    "OPTIMIZERS",
    "RAdam",
    "SnapshotEnsemble",
    "autoencoder",
    "classifier",
    "cyclic_cosine_learning_rate",
    "dense_block",
    "denoising_autoencoder",
    "ensemble",
    "greedy_pretrain",
    "initializer_for",
    "kernel_regularizer",
    "make_optimizer",
    "mlp",
    "regressor",
    "stacked_autoencoder",
    "train_ensemble",
    "train_stacked_autoencoder",
    "with_weight_averaging",
]
