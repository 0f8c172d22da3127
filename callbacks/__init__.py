"""Training monitors and the training doctor."""

from keras_recipes.callbacks.diagnosis_thresholds import DIAGNOSIS_THRESHOLDS
from keras_recipes.callbacks.findings import FINDING_KINDS, Finding
from keras_recipes.callbacks.training_doctor import TrainingDoctor

__all__ = ["DIAGNOSIS_THRESHOLDS", "FINDING_KINDS", "Finding", "TrainingDoctor"]
