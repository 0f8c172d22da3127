"""Small readers of a compiled model shared by the guideline helpers."""

import keras
import numpy as np

from keras_recipes.recipes import _validation

# Losses whose chance level is known, and the kind of chance level: Keras
# loss functions by name, `keras.losses.Loss` objects by class (whatever
# their `name=`; subclasses count as their base).
_CLASSIFICATION_LOSSES = {
    "sparse_categorical_crossentropy": "categorical",
    "categorical_crossentropy": "categorical",
    "binary_crossentropy": "binary",
}
_CLASSIFICATION_LOSS_CLASSES = (
    (keras.losses.SparseCategoricalCrossentropy, "categorical"),
    (keras.losses.CategoricalCrossentropy, "categorical"),
    (keras.losses.BinaryCrossentropy, "binary"),
)

# The cross-entropies that take probabilities, or logits with
# `from_logits=True`: `Loss` class name -> the function it wraps (what the
# snake-case loss string resolves to; a function takes `from_logits=False`).
_CROSS_ENTROPIES = {
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryFocalCrossentropy": "binary_focal_crossentropy",
    "CategoricalFocalCrossentropy": "categorical_focal_crossentropy",
}


def regularization_penalty(model):
    """The sum of the model's weight regularization losses now (0 before it is built).

    `model.losses` also holds what `add_loss` and activity regularizers left
    from the last traced step: graph tensors of a function that has run, with
    no value now. Those are per-batch terms, not a penalty on the weights, and
    are left out.
    """
    return float(sum(_loss_terms(model)[0]))


def has_batch_loss_terms(model):
    """Whether the model's loss has terms from `add_loss` or activity
    regularizers (seen after a step has been traced), which may be negative."""
    return _loss_terms(model)[1] > 0


def _loss_terms(model):
    """(values of the weight penalties, count of per-batch terms) in `model.losses`."""
    if not model.built:
        return [], 0
    values, batch_terms = [], 0
    for loss in model.losses:
        try:
            values.append(float(keras.ops.convert_to_numpy(loss)))
        except (NotImplementedError, TypeError, ValueError, AttributeError):
            batch_terms += 1  # a symbolic tensor of a traced step
    return values, batch_terms


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


def _resolved_loss(model):
    """The compiled loss as Keras resolves it: a string (a snake-case function
    name, an alias such as `"bce"`, or a class name such as
    `"SparseCategoricalCrossentropy"`) becomes a function or `Loss` object."""
    loss = model.loss
    if isinstance(loss, str):
        try:
            return keras.losses.get(loss)
        except ValueError:  # unknown to Keras: compile would have failed too
            return loss
    return loss


def loss_name(model):
    """The compiled loss' name: a function's (`'sparse_categorical_crossentropy'`),
    or a `Loss` object's class name (`'SparseCategoricalCrossentropy'`), not its
    `name=`."""
    loss = _resolved_loss(model)
    if isinstance(loss, str):
        return loss
    if isinstance(loss, keras.losses.Loss):
        return type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


def classification_kind(model):
    """`'categorical'`, `'binary'` or `None` for the model's loss."""
    loss = _resolved_loss(model)
    if isinstance(loss, keras.losses.Loss):
        for loss_class, kind in _CLASSIFICATION_LOSS_CLASSES:
            if isinstance(loss, loss_class):
                return kind
        return None
    return _CLASSIFICATION_LOSSES.get(loss_name(model))


def cross_entropy(model):
    """The compiled cross-entropy (plain or focal) and its `from_logits`.

    A `Loss` object counts as its class (a subclass as its base); a loss
    function, or a string naming one, as the class wrapping it, with the
    function's `from_logits=False`.

    Args:
        model: A compiled Keras model.

    Returns:
        `(class name, from_logits)`, or `None` for other losses and for
        several losses.

    Example:

    >>> model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> cross_entropy(model)
    ('SparseCategoricalCrossentropy', True)
    >>> model.compile(loss="binary_crossentropy")
    >>> cross_entropy(model)
    ('BinaryCrossentropy', False)
    """
    loss = _resolved_loss(model)
    for class_name, function_name in _CROSS_ENTROPIES.items():
        if isinstance(loss, getattr(keras.losses, class_name)):
            return class_name, bool(loss.from_logits)
        if loss is getattr(keras.losses, function_name):
            return class_name, False
    return None


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
    """Converts `x` and `y` to NumPy arrays with the same number of rows.

    A `tf.data.Dataset` or a generator is refused rather than read: the
    helpers sample rows, and how many batches to take from a stream is the
    caller's choice.
    """
    arrays = np.asarray(x), np.asarray(y)
    if any(array.ndim == 0 for array in arrays):
        raise ValueError(
            f"`{caller}` needs `x` and `y` as arrays with one row per example "
            "(NumPy arrays or tensors), not a `tf.data.Dataset` or a generator: "
            "take a few batches into arrays first. "
            f"Received: x={_validation.short_repr(x)}, y={_validation.short_repr(y)}"
        )
    x, y = arrays
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"`{caller}` needs `x` and `y` with the same, non-zero number of "
            f"rows. Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    return x, y
