"""`mlp_hypermodel`: a ready keras-tuner HyperModel on the MLP recipes."""

import math
import numbers

import keras_tuner

from keras_recipes.recipes import classifier, regressor
from keras_recipes.recipes._validation import check_choice
from keras_recipes.recipes.optimizers import OPTIMIZERS

TASKS = ("classification", "regression")


def _is_number(value):
    """A finite real number (an infinite bound cannot be sampled)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_span(name, value, *, log):
    """A fixed number, or a `(min, max)` range to search (log-uniform if `log`)."""
    if _is_number(value):
        if value < 0:
            raise ValueError(
                f"Invalid value for argument `{name}`: expected a number >= 0 or a "
                f"(min, max) range. Received: {name}={value!r}"
            )
        return float(value)
    lowest = 0.0 if not log else None
    ok = (
        isinstance(value, (tuple, list)) and len(value) == 2
        and all(_is_number(v) for v in value) and value[0] < value[1]
        and (value[0] > 0 if log else value[0] >= lowest)
    )
    if not ok:
        kind = "0 < min < max" if log else "0 <= min < max"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite number or a "
            f"(min, max) range of finite numbers with {kind}. Received: {name}={value!r}"
        )
    return (float(value[0]), float(value[1]))


def _units_key(units):
    return "-".join(str(int(u)) for u in units)


def _is_unit_list(units):
    return (
        isinstance(units, (list, tuple)) and len(units) > 0
        and all(isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1
                for u in units)
    )


def _check_architectures(hidden_units):
    """One unit list (fixed), or a list of unit lists to choose from."""
    if isinstance(hidden_units, numbers.Integral) and not isinstance(hidden_units, bool):
        hidden_units = [hidden_units]
    nested = isinstance(hidden_units, (list, tuple)) and len(hidden_units) > 0 and all(
        isinstance(u, (list, tuple)) for u in hidden_units
    )
    candidates = list(hidden_units) if nested else [hidden_units]
    if not all(_is_unit_list(units) for units in candidates):
        raise ValueError(
            "Invalid value for argument `hidden_units`: expected a list of positive "
            "integers, or a list of such lists to choose from. "
            f"Received: hidden_units={hidden_units!r}"
        )
    return [_units_key(units) for units in candidates]


class _MLPHyperModel(keras_tuner.HyperModel):
    def __init__(self, input_shape, outputs, spans, architectures, optimizers, task, fixed, name):
        super().__init__(name=name)
        self.input_shape, self.outputs = input_shape, outputs
        self.spans, self.architectures, self.optimizers = spans, architectures, optimizers
        self.task, self.fixed = task, fixed

    def _value(self, hp, name):
        span = self.spans[name]
        if isinstance(span, float):
            return span
        sampling = "linear" if name == "dropout" else "log"
        return hp.Float(name, span[0], span[1], sampling=sampling)

    def build(self, hp):
        units = self.architectures[0]
        if len(self.architectures) > 1:
            units = hp.Choice("hidden_units", self.architectures)
        optimizer = self.optimizers[0]
        if len(self.optimizers) > 1:
            optimizer = hp.Choice("optimizer", self.optimizers)
        recipe = classifier if self.task == "classification" else regressor
        return recipe(
            self.input_shape,
            [int(u) for u in units.split("-")],
            self.outputs,
            optimizer=optimizer,
            learning_rate=self._value(hp, "learning_rate"),
            l2=self._value(hp, "l2"),
            dropout=self._value(hp, "dropout"),
            **self.fixed,
        )


def mlp_hypermodel(
    input_shape,
    outputs,
    *,
    learning_rate=(1e-6, 1e-1),
    l2=(1e-6, 1e0),
    hidden_units=(64,),
    optimizer="adam",
    dropout=0.0,
    activation="relu",
    batch_norm=False,
    task="classification",
    name=None,
):
    """A HyperModel searching an MLP recipe's learning rate and L2 penalty.

    Each of `learning_rate` and `l2` is either a `(min, max)` range, searched
    log-uniformly (seed 003), or a fixed number. The architecture is fixed
    (`hidden_units=(64, 32)`) or searched among several
    (`hidden_units=[(64,), (128, 64)]`); so is the optimizer (a name or a list
    of `make_optimizer` names). `dropout` is a rate or a linear `(min, max)`
    range. Models come from `keras_recipes.recipes.classifier` (accuracy
    metric, sparse labels) or `regressor`.

    Args:
        input_shape: Shape of one example, e.g. `(64,)`.
        outputs: Classes (classification) or targets (regression).
        learning_rate: A range or a number. Defaults to `(1e-6, 1e-1)`.
        l2: A range or a number (0 for none). Defaults to `(1e-6, 1e0)`.
        hidden_units: Units per hidden layer, or a list of such lists.
            Defaults to `(64,)`.
        optimizer: A `make_optimizer` name or a list of names.
            Defaults to `"adam"`.
        dropout: A rate in [0, 1) or a `(min, max)` range. Defaults to `0.0`.
        activation: Hidden-layer activation. Defaults to `"relu"`.
        batch_norm: Batch normalization in each block. Defaults to `False`.
        task: `"classification"` or `"regression"`.
            Defaults to `"classification"`.
        name: HyperModel name. Defaults to `None`.

    Returns:
        A `keras_tuner.HyperModel` whose `build(hp)` returns a compiled model.

    Raises:
        ValueError: for a bad range, unit list, optimizer name or task.

    Example:

    >>> hypermodel = mlp_hypermodel((64,), 10, hidden_units=[(32,), (64, 32)])
    >>> model = hypermodel.build(keras_tuner.HyperParameters())
    """
    check_choice("task", task, TASKS)
    spans = {
        "learning_rate": _check_span("learning_rate", learning_rate, log=True),
        "l2": _check_span("l2", l2, log=True),
        "dropout": _check_span("dropout", dropout, log=False),
    }
    if isinstance(spans["learning_rate"], float) and not spans["learning_rate"] > 0:
        raise ValueError(
            "Invalid value for argument `learning_rate`: expected a number > 0 or a "
            f"(min, max) range. Received: learning_rate={learning_rate!r}"
        )
    rates = [spans["dropout"]] if isinstance(spans["dropout"], float) else spans["dropout"]
    if not all(0 <= rate < 1 for rate in rates):
        raise ValueError(
            "Invalid value for argument `dropout`: expected a rate in [0, 1) or a "
            f"(min, max) range of rates in [0, 1). Received: dropout={dropout!r}"
        )
    optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer]
    if not optimizers or not all(
        isinstance(candidate, str) and candidate in OPTIMIZERS for candidate in optimizers
    ):
        raise ValueError(
            f"Invalid value for argument `optimizer`: expected one of {sorted(OPTIMIZERS)} "
            f"or a non-empty list of them to choose from. Received: optimizer={optimizer!r}"
        )
    architectures = _check_architectures(hidden_units)
    fixed = {"activation": activation, "batch_norm": batch_norm}
    hypermodel = _MLPHyperModel(
        input_shape, outputs, spans, architectures, optimizers, task, fixed, name
    )
    # Build once with defaults so a bad shape or unit list fails here, not in a trial.
    hypermodel.build(keras_tuner.HyperParameters())
    return hypermodel
