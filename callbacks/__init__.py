"""Training monitors and the training doctor."""

from keras_recipes.callbacks.activation_stats import ActivationStats
from keras_recipes.callbacks.activation_study import activation_study
from keras_recipes.callbacks.diagnosis_thresholds import DIAGNOSIS_THRESHOLDS
from keras_recipes.callbacks.findings import FINDING_KINDS, Finding
from keras_recipes.callbacks.gradient_monitor import GradientMonitor
from keras_recipes.callbacks.layer_statistics import layer_statistics
from keras_recipes.callbacks.training_doctor import TrainingDoctor

__all__ = [
    "ActivationStats",
    "DIAGNOSIS_THRESHOLDS",
    "FINDING_KINDS",
    "Finding",
    "GradientMonitor",
    "TrainingDoctor",
    "activation_study",
    "layer_statistics",
]
