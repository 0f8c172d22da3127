"""Coarse-to-fine tuning, the LR finder and the training guideline."""

from keras_recipes.tuning.initial_loss import InitialLossCheck, check_initial_loss
from keras_recipes.tuning.learning_rate_finder import find_learning_rate
from keras_recipes.tuning._learning_rate_sweep import LearningRateFinderResult
from keras_recipes.tuning.loss_curves import diagnose_curves
from keras_recipes.tuning.overfit_small_batch import OverfitResult, overfit_small_batch

__all__ = [
    "InitialLossCheck",
    "LearningRateFinderResult",
    "OverfitResult",
    "check_initial_loss",
    "diagnose_curves",
    "find_learning_rate",
    "overfit_small_batch",
]
