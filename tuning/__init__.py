"""Coarse-to-fine tuning, the LR finder and the training guideline."""

from keras_recipes.tuning._learning_rate_sweep import LearningRateFinderResult
from keras_recipes.tuning.coarse_to_fine_oracle import CoarseToFineOracle
from keras_recipes.tuning.coarse_to_fine_search import CoarseToFineSearch
from keras_recipes.tuning.distributed import launch_distributed_search
from keras_recipes.tuning.initial_loss import InitialLossCheck, check_initial_loss
from keras_recipes.tuning.learning_rate_finder import find_learning_rate
from keras_recipes.tuning.loss_curves import diagnose_curves
from keras_recipes.tuning.mlp_hypermodel import mlp_hypermodel
from keras_recipes.tuning.overfit_small_batch import OverfitResult, overfit_small_batch
from keras_recipes.tuning.plots import plot_scores

__all__ = [
    "CoarseToFineOracle",
    "CoarseToFineSearch",
    "InitialLossCheck",
    "LearningRateFinderResult",
    "OverfitResult",
    "check_initial_loss",
    "diagnose_curves",
    "find_learning_rate",
    "launch_distributed_search",
    "mlp_hypermodel",
    "overfit_small_batch",
    "plot_scores",
]
