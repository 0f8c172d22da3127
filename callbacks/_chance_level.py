"""The loss of guessing, and the floors a loss cannot go below (pure readers).

The chance level is the loss of the best prediction that ignores the input:
for a cross-entropy the entropy of the label prior (`ln C` for C balanced
classes), for a regression loss the loss of the best constant (the variance
of the targets for the mean squared error, their mean absolute deviation
from the median for the mean absolute error; found numerically for the Huber
and log-cosh losses). The perfect loss is the loss of predicting every target exactly: 0, except for
a cross-entropy on soft targets (label smoothing makes them soft), where it
is their entropy.
"""

import math
import numbers
import warnings

import keras
import numpy as np

from keras_recipes.callbacks._regression_chance import REGRESSION_CHANCE
from keras_recipes.recipes import _validation
from keras_recipes.tuning import _model_parts

#: The logged loss of a cross-entropy is never below 0 for valid labels (the
#: regularization penalty only adds to it).
CROSS_ENTROPY_FLOOR = 0.0

_SPARSE_NAMES = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")


def check_targets(y):
    """`y` as a NumPy array of finite numbers with one row per example, `None`,
    or `MULTIPLE_OUTPUTS` for a dict or a list of arrays (several outputs)."""
    if y is None:
        return None
    if isinstance(y, dict) or (isinstance(y, (list, tuple)) and y and all(
            hasattr(part, "shape") and np.ndim(part) >= 1 for part in y)):
        return MULTIPLE_OUTPUTS  # arrays for several outputs: no one chance level
    try:
        targets = np.asarray(y)
    except (TypeError, ValueError):  # ragged nested lists
        targets = np.asarray(None)
    if targets.dtype.kind not in "biuf" or targets.ndim == 0 or targets.size == 0:
        raise ValueError(
            "`y` must be the training targets: an array of numbers with one row per "
            "example (class ids, one-hot rows or values), not a `tf.data.Dataset`, "
            "a sparse matrix (pass `y.toarray()`), strings (encode the labels as "
            f"integers) or a scalar. Received: y={_validation.short_repr(y)} of dtype "
            f"{getattr(targets, 'dtype', None)}"
        )
    if not np.isfinite(targets).all():
        raise ValueError(
            "`y` must hold finite numbers. Expected no NaN or Inf. Received: "
            f"y={_validation.short_repr(y)} with {int(np.sum(~np.isfinite(targets)))} "
            "non-finite value(s)"
        )
    return targets


#: What `check_targets` returns for the targets of several outputs (a dict,
#: or a list or tuple of arrays): no chance level from them.
MULTIPLE_OUTPUTS = "multiple outputs"


def check_chance_loss(chance_loss):
    """`chance_loss` as a float, or `None`."""
    valid = chance_loss is None or (
        isinstance(chance_loss, numbers.Real) and not isinstance(chance_loss, bool)
        and math.isfinite(chance_loss) and chance_loss > 0
    )
    if not valid:
        raise ValueError(
            "Invalid value for argument `chance_loss`: expected a finite number > 0 "
            "(the loss of guessing, e.g. ln C for C classes) or None. "
            f"Received: chance_loss={chance_loss!r}"
        )
    return None if chance_loss is None else float(chance_loss)


def _output_shape(model):
    try:
        return model.output_shape
    except (AttributeError, ValueError, TypeError):  # subclassed or not built yet
        return None


def _one_output(shape):
    """Whether `shape` is one tensor's shape (not a list or dict of shapes)."""
    return isinstance(shape, tuple) and all(
        size is None or isinstance(size, int) for size in shape)


def output_units(model):
    """The size of the model's last output axis, or `None` if unknown or if
    the model has several outputs."""
    shape = _output_shape(model)
    return shape[-1] if _one_output(shape) and shape else None


def _single_loss(model):
    """One loss on one output: a loss shared by several outputs sums their
    losses, so neither the chance level nor the floor is one output's."""
    if getattr(model, "loss", None) is None or isinstance(model.loss, (dict, list, tuple)):
        return False
    shape = _output_shape(model)
    return shape is None or _one_output(shape)


def model_chance(model):
    """ln C for a C-class softmax cross-entropy, ln 2 for a binary one, else `None`."""
    if not _single_loss(model):
        return None
    kind, units = _model_parts.classification_kind(model), output_units(model)
    if kind == "categorical" and units is not None and units > 1:
        return math.log(units)
    if kind == "binary":
        return math.log(2.0)
    return None


def loss_floor(model):
    """The lowest value the compiled loss takes for valid labels, or `None` if unknown."""
    if _single_loss(model) and _model_parts.classification_kind(model) is not None:
        return CROSS_ENTROPY_FLOOR
    return None


def perfect_loss(model, targets=None):
    """The loss of predicting every target exactly: the mean entropy of the
    targets as the compiled cross-entropy sees them (after label smoothing),
    else 0 (hard labels without smoothing, other losses, several outputs).

    Binary label smoothing 0.3 turns labels 0 and 1 into 0.15 and 0.85: no
    prediction takes the loss below their entropy, 0.423, so progress is
    measured down to there, not to 0. Without `targets` the labels are taken
    as hard ones (one-hot rows, or 0 and 1).

    Args:
        model: The compiled model.
        targets: The training targets (`check_targets(y)`), or `None`.
            Defaults to `None`.

    Returns:
        A float >= 0.
    """
    if isinstance(targets, str) or not _single_loss(model):
        return 0.0
    kind, smoothing = _model_parts.classification_kind(model), _smoothing(model)
    if kind == "binary":
        labels = np.zeros(1) if targets is None else targets.reshape(-1).astype("float64")
        smoothed = labels * (1.0 - smoothing) + 0.5 * smoothing
        return _entropy(np.stack([smoothed, 1.0 - smoothed], axis=-1))
    units = output_units(model)
    if kind != "categorical" or _sparse(model) or (targets is None and not units):
        return 0.0
    rows = np.eye(units)[:1] if targets is None else targets.reshape(-1, targets.shape[-1])
    return _entropy(rows * (1.0 - smoothing) + smoothing / rows.shape[-1])


def _smoothing(model):
    return float(getattr(model.loss, "label_smoothing", 0.0) or 0.0)


def _sparse(model):
    return isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy) or (
        _model_parts.loss_name(model) in _SPARSE_NAMES)


def _entropy(rows):
    """The entropy of a distribution, or the mean entropy of the rows of an
    array of them (0 log 0 counts as 0)."""
    rows = np.asarray(rows, dtype="float64")
    logs = np.log(np.where(rows > 0, rows, 1.0))
    return float(np.mean(-np.sum(rows * logs, axis=-1)))


def target_chance(model, targets):
    """The chance level of the compiled loss on `targets`, or `None` for
    losses without one here (several outputs, custom losses: with a
    warning that the loss at the start is the reference) and for constant
    targets (a chance level of 0 leaves nothing to measure against).

    Raises:
        ValueError: If `targets` cannot be labels of the compiled loss.
    """
    chance = _target_chance(model, targets)
    if chance is _NO_CHANCE_LEVEL:
        warnings.warn(
            "`TrainingDoctor(y=...)` computes no chance level for "
            f"{_unsupported(model)}: loss changes are measured against the loss "
            "at the start instead (pass `chance_loss` if you know it). Chance "
            "levels are computed for one output under a cross-entropy or "
            f"{', '.join(sorted(REGRESSION_CHANCE))}.", UserWarning, stacklevel=3)
        return None
    return chance if chance is not None and chance > 1e-12 else None


# What `_target_chance` returns for targets given for a loss it cannot read.
_NO_CHANCE_LEVEL = object()


def _unsupported(model):
    if not _single_loss(model):
        return "a model with several outputs (a loss per output, or one shared)"
    return f"the loss {_model_parts.loss_name(model)!r}"


def _target_chance(model, targets):
    if targets is None:
        return None
    if isinstance(targets, str) or not _single_loss(model):
        return _NO_CHANCE_LEVEL
    kind = _model_parts.classification_kind(model)
    if kind == "binary":
        return _binary_entropy(targets, _smoothing(model))
    if kind == "categorical":
        if _sparse(model):
            ignored = getattr(model.loss, "ignore_class", None)
            return _class_id_entropy(targets, output_units(model), ignored)
        return _one_hot_entropy(targets, output_units(model), _smoothing(model))
    chance = REGRESSION_CHANCE.get(_model_parts.loss_name(model))
    if chance is None:
        return _NO_CHANCE_LEVEL
    return chance(model.loss, targets.reshape(len(targets), -1).astype("float64"))


def _binary_entropy(targets, smoothing):
    if targets.min() < 0 or targets.max() > 1:
        raise ValueError(
            "`y` does not match the binary cross-entropy: expected labels in [0, 1] "
            "(outside it the loss goes below 0 and means nothing). Received: y with "
            f"values from {targets.min():g} to {targets.max():g}"
        )
    positive = targets.reshape(len(targets), -1).astype("float64").mean(axis=0)
    positive = positive * (1.0 - smoothing) + 0.5 * smoothing
    return _entropy(np.stack([positive, 1.0 - positive], axis=-1))


def _class_id_entropy(targets, units, ignored):
    if targets.ndim > 1 and targets.shape[-1] != 1:
        raise ValueError(
            "`y` does not match the sparse categorical cross-entropy: expected one "
            "class id per example, of shape (samples,) or (samples, 1) (one-hot rows "
            "go with `categorical_crossentropy`). Received: y of shape "
            f"{targets.shape}"
        )
    ids = targets.reshape(-1).astype("float64")
    if ignored is not None:
        ids = ids[ids != ignored]
    if len(ids) and (ids.min() < 0 or not np.array_equal(ids, np.round(ids))):
        raise ValueError(
            "`y` does not match the sparse categorical cross-entropy: expected class "
            "ids (integers >= 0). Received: y with values from "
            f"{targets.min():g} to {targets.max():g}"
        )
    if len(ids) and units is not None and ids.max() >= units:
        raise ValueError(
            f"`y` does not match the model: expected class ids below {units}, the "
            f"number of output units. Received: y with class ids up to {ids.max():g}"
        )
    if not len(ids):
        return None
    return _entropy(np.bincount(ids.astype("int64")) / len(ids))


def _one_hot_entropy(targets, units, smoothing):
    width = targets.shape[-1] if targets.ndim > 1 else None
    rows = targets.reshape(-1, width).astype("float64") if width else None
    if (rows is None or (units is not None and width != units) or rows.min() < 0
            or rows.max() > 1 or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-3)):
        raise ValueError(
            "`y` does not match the categorical cross-entropy: expected one-hot rows "
            f"(or probabilities summing to 1) of {units or 'C'} columns, one per "
            "output unit (class ids go with `sparse_categorical_crossentropy`). "
            f"Received: y of shape {targets.shape}"
        )
    prior = rows.mean(axis=0) * (1.0 - smoothing) + smoothing / width
    return _entropy(prior)
