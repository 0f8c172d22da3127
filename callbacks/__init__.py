"""Training monitors and the training doctor."""

from keras_recipes.callbacks.findings import FINDING_KINDS, Finding

__all__ = ["FINDING_KINDS", "Finding"]
