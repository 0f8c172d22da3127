"""Step 2 of the training guideline: can the model overfit a small sample?"""

import dataclasses
import numbers
from typing import Optional

import keras
import numpy as np
import pandas as pd

from keras_recipes.recipes import _validation
from keras_recipes.recipes.build_for_training import build_where_possible
from keras_recipes.tuning import _model_parts

# Without accuracy (regression losses), "memorized" means the loss fell to
# this fraction of its first-epoch value.
_REGRESSION_LOSS_FRACTION = 0.01


@dataclasses.dataclass
class OverfitResult:
    """How a copy of a model did on a small training sample.

    Attributes:
        reached: Whether the copy memorized the sample (accuracy at or above
            the target, or for regression the loss at 1% of its start).
        epochs_to_target: Epochs it took (1-based), or `None` if not reached.
        final_accuracy: Training accuracy at the end, `None` for regression.
        initial_loss: Loss of the first epoch.
        final_loss: Loss of the last epoch.
        history: A DataFrame with one row per epoch.
    """

    reached: bool
    epochs_to_target: Optional[int]
    final_accuracy: Optional[float]
    initial_loss: float
    final_loss: float
    history: pd.DataFrame

    def __str__(self):
        how = (
            f"memorized the sample in {self.epochs_to_target} epochs"
            if self.reached
            else f"did NOT memorize the sample in {len(self.history)} epochs"
        )
        accuracy = "" if self.final_accuracy is None else (
            f", accuracy {self.final_accuracy:.3f}"
        )
        hint = "" if self.reached else (
            " Seed 003: if the loss goes down slowly, raise the learning rate; if "
            "it blows up, lower it; then revisit the architecture and initialization."
        )
        return (
            f"The model {how} (loss {self.initial_loss:.4f} -> "
            f"{self.final_loss:.4f}{accuracy}).{hint}"
        )


def overfit_small_batch(model, x, y, n=32, epochs=200, target_accuracy=0.99, seed=0):
    """Trains a copy of a model on a small sample until it memorizes it.

    Seed 003's second guideline step: a model that cannot reach about 100%
    training accuracy on a few dozen examples has a bug (architecture,
    learning rate or initialization) that more data will not fix. The copy
    starts from the model's current weights with a fresh optimizer of the same
    configuration and trains full-batch; the model itself, its weights and its
    optimizer are left untouched.

    Args:
        model: A compiled Sequential or functional Keras model.
        x: Inputs as arrays (NumPy arrays or tensors, not a
            `tf.data.Dataset`); `n` rows are sampled from them.
        y: Targets in the format the compiled loss expects.
        n: Number of examples to memorize. Defaults to `32`.
        epochs: Most epochs to train. Defaults to `200`.
        target_accuracy: Training accuracy in (0, 1] that counts as
            memorized. Defaults to `0.99`.
        seed: Seed of the sampling (an integer). Defaults to `0`.

    Returns:
        An `OverfitResult`.

    Raises:
        ValueError: If the model is not compiled or cannot be cloned, `x` or
            `y` is not an array, or an argument is out of range.

    Example:

    >>> result = overfit_small_batch(model, x_train, y_train, n=32)
    >>> result.reached, result.epochs_to_target
    (True, 41)
    """
    _model_parts.check_compiled(model, "overfit_small_batch")
    n = _validation.check_positive_int("n", n)
    epochs = _validation.check_positive_int("epochs", epochs)
    target_accuracy = _check_accuracy(target_accuracy)
    _validation.check_seed(seed)
    x, y = _model_parts.as_arrays(x, y, "overfit_small_batch")
    rows = np.random.default_rng(seed).permutation(len(x))[:n]
    copy, classification = _compiled_copy(model)
    stopper = _StopWhenMemorized(target_accuracy, classification)
    build_where_possible(copy, x[rows], y[rows])
    history = copy.fit(
        x[rows], y[rows], batch_size=len(rows), epochs=epochs, verbose=0,
        shuffle=False, callbacks=[stopper],
    )
    return _result(pd.DataFrame(history.history), stopper.reached_at)


def _check_accuracy(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ValueError(
            "Invalid value for argument `target_accuracy`: expected a number in "
            f"(0, 1]. Received: target_accuracy={value!r}"
        )
    return float(value)


def _compiled_copy(model):
    try:
        copy = keras.models.clone_model(model)
    except Exception as error:  # clone_model raises several types
        raise ValueError(
            "`overfit_small_batch` needs a model that `keras.models.clone_model` "
            f"can copy (Sequential or functional). Received: model={model.name!r} "
            f"({type(error).__name__}: {error})"
        ) from error
    copy.set_weights(model.get_weights())
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(model.optimizer))
    classification = _model_parts.classification_kind(model) is not None
    copy.compile(
        optimizer=optimizer, loss=model.loss,
        metrics=["accuracy"] if classification else None,
    )
    return copy, classification


class _StopWhenMemorized(keras.callbacks.Callback):
    def __init__(self, target_accuracy, classification):
        super().__init__()
        self.target_accuracy = target_accuracy
        self.classification = classification
        self.first_loss = None
        self.reached_at = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.first_loss is None:
            self.first_loss = logs["loss"]
        if self.classification:
            done = logs["accuracy"] >= self.target_accuracy
        else:
            done = logs["loss"] <= _REGRESSION_LOSS_FRACTION * self.first_loss
        if done:
            self.reached_at = epoch + 1
            self.model.stop_training = True


def _result(history, reached_at):
    accuracy = float(history["accuracy"].iloc[-1]) if "accuracy" in history else None
    return OverfitResult(
        reached=reached_at is not None,
        epochs_to_target=reached_at,
        final_accuracy=accuracy,
        initial_loss=float(history["loss"].iloc[0]),
        final_loss=float(history["loss"].iloc[-1]),
        history=history,
    )
