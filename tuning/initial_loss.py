"""Step 1 of the training guideline: is the initial loss at chance level?"""

import dataclasses
import math

import numpy as np

from keras_recipes.tuning import _model_parts

# Ratio initial loss / chance loss -> verdict. Outside [low, high] the
# initialization or the output layer is suspect.
INITIAL_LOSS_TOLERANCE = {
    "low": 0.8,  # clearly better than chance before training: trained or leaking
    "high": 1.25,  # confidently wrong predictions: last layer scaled too large
}

_VERDICT_MESSAGES = {
    "as_expected": "The initial loss is at chance level, as it should be.",
    "too_high": (
        "The initial loss is well above chance: the untrained model is "
        "confidently wrong. Check the last layer's activation and "
        "`from_logits`, and use a smaller initialization for the last layer."
    ),
    "below_chance": (
        "The initial loss is already below chance: the weights are trained, "
        "or the targets leak into the inputs."
    ),
}

#: For losses without classes, "chance" is predicting the mean target.
_REGRESSION_TOO_HIGH = (
    "The initial loss is well above the loss of predicting the mean target: "
    "the untrained outputs (near 0) are far from the targets' scale. "
    "Standardize the targets, or set the output layer's bias to their mean."
)


@dataclasses.dataclass
class InitialLossCheck:
    """The initial loss of a model against the loss of guessing.

    Attributes:
        data_loss: The loss on the data, without regularization.
        regularization_loss: The sum of the model's regularization losses.
        chance_loss: The loss of a model that ignores its input.
        ratio: `data_loss / chance_loss`.
        verdict: `"as_expected"`, `"too_high"` or `"below_chance"`.
        message: The verdict in words.
    """

    data_loss: float
    regularization_loss: float
    chance_loss: float
    ratio: float
    verdict: str
    message: str

    def __str__(self):
        return (
            f"initial loss {self.data_loss:.4f} (+ regularization "
            f"{self.regularization_loss:.4f}) vs chance {self.chance_loss:.4f} "
            f"(ratio {self.ratio:.2f}): {self.verdict}. {self.message}"
        )


def check_initial_loss(model, x, y):
    """Compares the loss of an untrained model with the loss of guessing.

    Seed 003's first guideline step: before training, the loss of a C-class
    softmax cross-entropy should be about `ln C` (`ln 2` for a binary
    cross-entropy). For other losses the chance level is the loss of
    predicting the mean target. The regularization losses are reported apart
    because they are not part of the chance level.

    Args:
        model: A compiled Keras model with a single loss.
        x: Inputs as arrays (NumPy arrays or tensors, not a
            `tf.data.Dataset`); a few hundred examples are enough.
        y: Targets in the format the compiled loss expects.

    Returns:
        An `InitialLossCheck` with the numbers and a verdict.

    Raises:
        ValueError: If the model is not compiled, `x` or `y` is not an
            array, or `x` and `y` differ in length.

    Example:

    >>> check = check_initial_loss(model, x_train[:256], y_train[:256])
    >>> check.verdict
    'as_expected'
    """
    _model_parts.check_compiled(model, "check_initial_loss")
    x, y = _model_parts.as_arrays(x, y, "check_initial_loss")
    y_pred = model(x, training=False)
    regularization = _model_parts.regularization_penalty(model)
    loss = _model_parts.loss_function(model)
    data_loss = loss(y, y_pred)
    chance = _chance_loss(model, y, loss)
    ratio = data_loss / chance if chance > 0 else math.inf
    verdict = initial_loss_verdict(ratio)
    message = _VERDICT_MESSAGES[verdict]
    if verdict == "too_high" and _model_parts.classification_kind(model) is None:
        message = _REGRESSION_TOO_HIGH
    return InitialLossCheck(data_loss, regularization, chance, ratio, verdict, message)


def initial_loss_verdict(ratio):
    """The verdict for `initial loss / chance loss` (a pure function)."""
    if ratio > INITIAL_LOSS_TOLERANCE["high"]:
        return "too_high"
    if ratio < INITIAL_LOSS_TOLERANCE["low"]:
        return "below_chance"
    return "as_expected"


def _chance_loss(model, y, loss):
    kind = _model_parts.classification_kind(model)
    if kind == "categorical":
        return math.log(model.output_shape[-1])
    if kind == "binary":
        return math.log(2.0)
    y = y.astype("float32")
    guess = np.broadcast_to(y.mean(axis=0), y.shape)
    return loss(y, guess)
