"""Small readers of a compiled model shared by the guideline helpers."""

import keras
import numpy as np

# Loss names whose chance level is known, and the kind of chance level.
_CLASSIFICATION_LOSSES = {
    "sparse_categorical_crossentropy": "categorical",
    "categorical_crossentropy": "categorical",
    "binary_crossentropy": "binary",
}


def check_compiled(model, caller):
    """Raises if `model` has no optimizer or no single loss."""
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise ValueError(
            f"`{caller}` needs a compiled model (with an optimizer and a loss). "
            f"Call `model.compile(...)` first. Received: model={model.name!r}"
        )
    if isinstance(model.loss, (dict, list, tuple)):
        raise ValueError(
            f"`{caller}` supports models with a single loss. "
            f"Received: loss={model.loss!r}"
        )


def loss_name(model):
    """The compiled loss' name in snake case (`'sparse_categorical_crossentropy'`)."""
    loss = model.loss
    if isinstance(loss, str):
        return loss
    if isinstance(loss, keras.losses.Loss):
        return loss.name
    return getattr(loss, "__name__", type(loss).__name__)


def classification_kind(model):
    """`'categorical'`, `'binary'` or `None` for the model's loss."""
    return _CLASSIFICATION_LOSSES.get(loss_name(model))


def loss_function(model):
    """The compiled loss as a callable `(y_true, y_pred) -> scalar`."""
    loss = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss

    def mean_loss(y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), keras.ops.convert_to_numpy(y_pred)
        # As Keras' compiled loss does: targets (n,) against outputs (n, 1).
        if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
            y_true = y_true[..., None]
        return float(keras.ops.mean(loss(y_true, y_pred)))

    return mean_loss


def as_arrays(x, y, caller):
    """Converts `x` and `y` to NumPy arrays with the same number of rows."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"`{caller}` needs `x` and `y` with the same, non-zero number of "
            f"rows. Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    return x, y
