"""Argument checks shared by the public entry points (Keras-style messages)."""

import inspect
import numbers

import keras
import numpy as np

# Longer reprs (e.g. of arrays) are summarized by type and shape in error messages.
_SHORT_REPR_CHARACTERS = 80


def check_rate(name, value, *, allow_list=False):
    """Checks a rate in [0, 1) and returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a float in [0, 1). "
            f"Received: {name}={value!r}"
        )
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a float in [0, 1). "
            f"Received: {name}={value!r}"
        )
    return float(value)


def check_non_negative(name, value):
    """Checks a number >= 0 and returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a number >= 0. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def check_positive(name, value):
    """Checks a number > 0 and returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a number > 0. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def check_positive_int(name, value):
    """Checks an integer >= 1 and returns it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected an integer >= 1. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_choice(name, value, choices):
    """Checks that `value` is one of `choices` (listed in the message)."""
    try:
        known = value in choices
    except TypeError:  # an unhashable value, e.g. a list, is never a choice
        known = False
    if not known:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected one of "
            f"{sorted(choices)}. Received: {name}={value!r}"
        )
    return value


def check_unit_interval(name, value):
    """Checks a number in the closed interval [0, 1] and returns it as a float."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= value <= 1.0
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a number in "
            f"[0, 1]. Received: {name}={value!r}"
        )
    return float(value)


#: The largest seed `keras.utils.set_random_seed` (NumPy) takes.
MAX_SEED = 2**32 - 1


def is_seed(value):
    """Whether `value` is a seed `keras.utils.set_random_seed` takes: an integer in [0, MAX_SEED]."""
    return (isinstance(value, numbers.Integral) and not isinstance(value, bool)
            and 0 <= value <= MAX_SEED)


def check_seed(value):
    """Checks a random seed (an integer or None) and returns it as a Python int or None.

    Keras' seeded layers refuse NumPy integers such as `np.int64(3)`, hence the `int`.
    """
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral)
    ):
        raise ValueError(
            "Invalid value for argument `seed`: expected an integer or None. "
            f"Received: seed={value!r}"
        )
    return None if value is None else int(value)


def check_input_shape(input_shape):
    """Checks the shape of one example (an int or a tuple of ints >= 1) and returns a tuple."""
    shape = (input_shape,) if isinstance(input_shape, numbers.Integral) else input_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = ()
    if not shape or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1 for d in shape
    ):
        raise ValueError(
            "Invalid value for argument `input_shape`: expected a positive integer or a "
            f"tuple of positive integers. Received: input_shape={input_shape!r}"
        )
    return shape


def check_hidden_units(hidden_units):
    """Checks a non-empty list of positive layer widths and returns it as a list of ints."""
    units = [hidden_units] if isinstance(hidden_units, numbers.Integral) else hidden_units
    if isinstance(units, (str, bytes)) or not hasattr(units, "__len__") or len(units) == 0:
        raise ValueError(
            "Invalid value for argument `hidden_units`: expected a non-empty list of "
            f"positive integers. Received: hidden_units={hidden_units!r}"
        )
    for value in units:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(
                "Invalid value for argument `hidden_units`: expected a non-empty list "
                f"of positive integers. Received: hidden_units={hidden_units!r}"
            )
    return [int(u) for u in units]


def short_repr(value):
    """`repr(value)` for an error message, or its type and shape when the repr is long."""
    text = repr(value)
    if len(text) <= _SHORT_REPR_CHARACTERS and "\n" not in text:
        return text
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{type(value).__name__} shape={tuple(shape)}>"
    if isinstance(value, (list, tuple)):
        items = ", ".join(short_repr(item) for item in value[:3])
        more = ", ..." if len(value) > 3 else ""
        brackets = "()" if isinstance(value, tuple) else "[]"
        return f"{brackets[0]}{items}{more}{brackets[1]}"
    return f"<{type(value).__name__}>"


def python_numbers(kwargs):
    """`kwargs` with NumPy real scalars as Python numbers, for Keras' constructors.

    Keras refuses some NumPy scalars (`SGD(momentum=np.float32(0.9))`) and
    computes in float64 with others (`global_clipnorm=np.float64(1.0)` fails
    in `fit`), though they are numbers.
    """
    return {
        key: value.item() if isinstance(value, (np.integer, np.floating)) else value
        for key, value in kwargs.items()
    }


#: The keyword arguments `keras.Model.fit` takes (it has no `**kwargs`).
FIT_ARGUMENTS = frozenset(inspect.signature(keras.Model.fit).parameters) - {"self"}


def check_fit_kwargs(fit_kwargs, set_here):
    """Checks, before anything trains, what is cheap and certain of keyword arguments for `fit`.

    `set_here` names the `fit` arguments the caller sets itself. Only the
    names, `validation_split` and `callbacks` are checked; Keras checks the
    rest when `fit` runs.
    """
    allowed = FIT_ARGUMENTS - set(set_here)
    unknown = sorted(set(fit_kwargs) - allowed)
    if unknown:
        received = ", ".join(f"{key}={short_repr(fit_kwargs[key])}" for key in unknown)
        raise ValueError(
            f"Unrecognized keyword arguments for `fit`: {unknown}. Expected keyword "
            f"arguments of `keras.Model.fit` among {sorted(allowed)}. Received: {received}"
        )
    if "validation_split" in fit_kwargs:
        check_rate("validation_split", fit_kwargs["validation_split"])
    _check_callbacks(fit_kwargs.get("callbacks"))


def _check_callbacks(callbacks):
    # Keras flattens `callbacks` (so one callback alone also works) and calls
    # `set_model` on each item when `fit` starts.
    if callbacks is None or isinstance(callbacks, keras.callbacks.CallbackList):
        return
    items = keras.tree.flatten(callbacks)
    if not all(isinstance(item, keras.callbacks.Callback) for item in items):
        raise ValueError(
            "Invalid value for argument `callbacks`: expected a list of "
            "`keras.callbacks.Callback` instances. "
            f"Received: callbacks={short_repr(callbacks)}"
        )


def check_learning_rate(learning_rate):
    """A learning rate as Keras' optimizers take it: a number > 0 (returned as
    the Python float Keras insists on, NumPy scalars included), a
    `LearningRateSchedule` or a callable returning the rate."""
    if callable(learning_rate):  # a `LearningRateSchedule` or a function
        return learning_rate
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, numbers.Real)
        or not learning_rate > 0
    ):
        raise ValueError(
            "Invalid value for argument `learning_rate`: expected a number > 0, a "
            "`keras.optimizers.schedules.LearningRateSchedule` or a callable. "
            f"Received: learning_rate={learning_rate!r}"
        )
    return float(learning_rate)
