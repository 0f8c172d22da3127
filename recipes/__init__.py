"""Model, optimizer, data and ensemble recipes."""

from keras_recipes.recipes.dropconnect import DropConnect
from keras_recipes.recipes.ensembles import (
    COMBINATION_METHODS,
    EnsembleAverage,
    ensemble,
    train_ensemble,
)
from keras_recipes.recipes.radam import RAdam
from keras_recipes.recipes.snapshot_ensembles import (
    SnapshotEnsemble,
    cyclic_cosine_learning_rate,
    with_weight_averaging,
)

__all__ = [
    "COMBINATION_METHODS",
    "DropConnect",
    "EnsembleAverage",
    "RAdam",
    "SnapshotEnsemble",
    "cyclic_cosine_learning_rate",
    "ensemble",
    "train_ensemble",
    "with_weight_averaging",
]
