"""Coarse-to-fine tuning, the LR finder and the training guideline."""

from keras_recipes.tuning.coarse_to_fine_oracle import CoarseToFineOracle
from keras_recipes.tuning.coarse_to_fine_search import CoarseToFineSearch
from keras_recipes.tuning.distributed import launch_distributed_search
from keras_recipes.tuning.mlp_hypermodel import mlp_hypermodel
from keras_recipes.tuning.plots import plot_scores

__all__ = [
    "CoarseToFineOracle",
    "CoarseToFineSearch",
    "launch_distributed_search",
    "mlp_hypermodel",
    "plot_scores",
]
