"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.autoencoders import (
    Autoencoder,
    MaskingNoise,
    NOISE_KINDS,
    autoencoder,
    denoising_autoencoder,
)
from keras_recipes.recipes.build_for_training import build_for_training
from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.ensembles import (
    COMBINATION_METHODS,
    EnsembleAverage,
    ensemble,
    train_ensemble,
)
from keras_recipes.recipes.feature_scaling import standardization, zero_centering
from keras_recipes.recipes.image_augmentation import image_augmentation
from keras_recipes.recipes.initializers import INITIALIZER_FOR_ACTIVATION, initializer_for
from keras_recipes.recipes.mixing import cutmix, mixup
from keras_recipes.recipes.mlp import classifier, mlp, regressor
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer
from keras_recipes.recipes.pca_whitening import PCAWhitening
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
    "PCAWhitening",
    "RAdam",
    "SnapshotEnsemble",
    "autoencoder",
    "build_for_training",
    "classifier",
    "cutmix",
    "cyclic_cosine_learning_rate",
    "denoising_autoencoder",
    "dense_block",
    "ensemble",
    "greedy_pretrain",
    "image_augmentation",
    "initializer_for",
    "kernel_regularizer",
    "make_optimizer",
    "mixup",
    "mlp",
    "regressor",
    "stacked_autoencoder",
    "standardization",
    "train_ensemble",
    "train_stacked_autoencoder",
    "with_weight_averaging",
    "zero_centering",
]
