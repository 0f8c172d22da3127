"""Model ensembles: one Keras model that combines its members' predictions.

The lecture's variants (seed 003, "Model Ensembles"): same model with different initializations is
`train_ensemble(build_fn, n, x, y)` here; checkpoints of one run and a running average of the
parameters are in `snapshot_ensembles.py`.
"""

from collections.abc import Iterable

import keras
from keras import ops

from keras_recipes.recipes._validation import (
    MAX_SEED,
    check_choice,
    check_fit_kwargs,
    check_positive_int,
    is_seed,
    short_repr,
)
from keras_recipes.recipes.build_for_training import build_where_possible

# Probabilities below this are clipped before the log in the geometric mean.
_LOG_FLOOR = 1e-7


def _mean(stacked):
    return ops.mean(stacked, axis=0)


def _geometric(stacked):
    log_mean = ops.mean(ops.log(ops.maximum(stacked, _LOG_FLOOR)), axis=0)
    probabilities = ops.exp(log_mean - ops.max(log_mean, axis=-1, keepdims=True))
    return probabilities / ops.sum(probabilities, axis=-1, keepdims=True)


def _vote(stacked):
    votes = ops.one_hot(ops.argmax(stacked, axis=-1), ops.shape(stacked)[-1])
    return ops.mean(votes, axis=0)


def _binary_as_two_classes(combine):
    """`combine` for class probabilities that also reads one sigmoid unit `p` as `[1 - p, p]`.

    The result for a single unit is the combined probability of class 1, of shape `(..., 1)`.
    Outputs of shape `(batch,)` (stacked as `(members, batch)`) are one unit per example: they
    are combined as `(batch, 1)` and come back as `(batch,)`, never across the batch.
    """

    def combine_probabilities(stacked):
        if len(stacked.shape) == 2:
            return combine_probabilities(ops.expand_dims(stacked, -1))[..., 0]
        if stacked.shape[-1] != 1:
            return combine(stacked)
        return combine(ops.concatenate([1.0 - stacked, stacked], axis=-1))[..., 1:]

    return combine_probabilities


# How members' predictions (stacked on a new first axis) become the ensemble's prediction.
COMBINATION_METHODS = {
    "mean": _mean,  # arithmetic mean: probabilities, logits or regression outputs
    # renormalized geometric mean of class probabilities
    "geometric": _binary_as_two_classes(_geometric),
    # share of members voting for each class (ties go to the lowest index)
    "vote": _binary_as_two_classes(_vote),
}


@keras.saving.register_keras_serializable(package="keras_recipes")
class EnsembleAverage(keras.layers.Layer):
    """Combines a list of same-shaped predictions into one.

    Args:
        method: One of `COMBINATION_METHODS`: `"mean"`, `"geometric"` (class
            probabilities on the last axis) or `"vote"` (majority vote; the
            output is each class's share of the votes). A last axis of size 1
            is one sigmoid unit, the probability `p` of class 1 in a binary
            problem: it is read as the two classes `[1 - p, p]` and the
            result is class 1's share, so `"geometric"` gives
            `g(p) / (g(p) + g(1 - p))` with `g` the geometric mean over the
            members, and `"vote"` the fraction of members with `p > 0.5`
            (a tie at 0.5 votes for class 0). Outputs of shape `(batch,)`
            are one such unit per example (the result has shape
            `(batch,)` too). Defaults to `"mean"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Raises:
        ValueError: if `method` is unknown.

    Example:

    >>> import numpy as np
    >>> combined = EnsembleAverage()([np.array([[0.2, 0.8]]), np.array([[0.6, 0.4]])])
    >>> keras.ops.convert_to_numpy(combined).round(2).tolist()
    [[0.4, 0.6]]
    """

    def __init__(self, method="mean", **kwargs):
        super().__init__(**kwargs)
        self.method = check_choice("method", method, COMBINATION_METHODS)

    def call(self, inputs):
        stacked = ops.stack([ops.cast(x, self.compute_dtype) for x in inputs], axis=0)
        return COMBINATION_METHODS[self.method](stacked)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "method": self.method}


def ensemble(models, method="mean", name="ensemble"):
    """Builds one model whose prediction combines the predictions of `models`.

    The members are nested in a single functional model, so the ensemble
    trains, evaluates, predicts and saves as one `.keras` file. Members are
    wrapped as `member_0`, `member_1`, ... so that models with equal names
    (e.g. loaded from files) can be combined.

    Args:
        models: A non-empty list of built single-output Keras models with the
            same inputs and output shape (functional or Sequential models).
        method: How to combine, one of `COMBINATION_METHODS`. Defaults to
            `"mean"`.
        name: The ensemble model's name. Defaults to `"ensemble"`.

    Returns:
        A `keras.Model` (not compiled).

    Raises:
        ValueError: if `models` is not a non-empty list (e.g. a single model), a
            member has no known inputs or more than one output, output shapes
            differ, or `method` is unknown.

    Example:

    >>> members = [keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    ...            for _ in range(3)]
    >>> ensemble(members).output.shape
    (None, 3)
    """
    check_choice("method", method, COMBINATION_METHODS)
    if isinstance(models, (keras.Model, str)) or not isinstance(models, Iterable):
        raise ValueError(
            "Invalid value for argument `models`: expected a non-empty list of Keras models "
            "(for one model, pass `[model]`). "
            f"Received: models={short_repr(models)}"
        )
    models = list(models)
    if not models:
        raise ValueError(
            "Invalid value for argument `models`: expected a non-empty list of Keras models. "
            f"Received: models={models!r}"
        )
    inputs = _shared_inputs(models[0])
    outputs = [_wrap(model, i)(_unwrap_single(inputs)) for i, model in enumerate(models)]
    shapes = [tuple(output.shape) for output in outputs]
    if len(set(shapes)) > 1:
        raise ValueError(
            "All ensemble members must have the same output shape. "
            f"Received: output shapes={shapes}"
        )
    combined = EnsembleAverage(method, name="combine")(outputs)
    return keras.Model(_unwrap_single(inputs), combined, name=name)


def _shared_inputs(model):
    """Fresh symbolic inputs shaped like `model`'s."""
    if not getattr(model, "inputs", None):
        raise ValueError(
            "Ensemble members must be built functional or Sequential models with known "
            f"inputs. Received: models[0]={model!r}"
        )
    return [keras.Input(shape=x.shape[1:], dtype=x.dtype) for x in model.inputs]


def _wrap(model, index):
    """`model` nested under the unique name `member_<index>`."""
    if not isinstance(model, keras.Model) or len(getattr(model, "outputs", None) or []) != 1:
        raise ValueError(
            "Ensemble members must be built Keras models with exactly one output. "
            f"Received: models[{index}]={model!r}"
        )
    inputs = _unwrap_single(_shared_inputs(model))
    return keras.Model(inputs, model(inputs), name=f"member_{index}")


def _unwrap_single(inputs):
    # A one-element list would make Keras warn on every call with a plain array.
    return inputs[0] if len(inputs) == 1 else inputs


def train_ensemble(build_fn, n, x, y=None, seeds=None, **fit_kwargs):
    """Trains `n` copies of the same model from different random initializations.

    Before each member is built, `keras.utils.set_random_seed(seed)` sets the
    global seeds (Python, NumPy, backend), so members differ in their initial
    weights and in the order `fit` shuffles the data, and the whole run is
    reproducible.

    Args:
        build_fn: A callable with no arguments returning a new compiled model.
        n: Number of members, an integer >= 1.
        x: Training inputs, passed to `model.fit`.
        y: Training targets, passed to `model.fit`. Defaults to `None`.
        seeds: `n` distinct integer seeds in [0, 2**32 - 1], one per member.
            Defaults to `None`, meaning `0, 1, ..., n - 1`.
        **fit_kwargs: Further arguments for `model.fit` (`epochs`, `verbose`, ...).

    Returns:
        The list of `n` trained models; combine them with `ensemble(...)`.

    Raises:
        ValueError: if `n` is not a positive integer or `seeds` does not hold
            `n` distinct integers in [0, 2**32 - 1], or for an unknown `fit`
            argument, a bad `validation_split` or `callbacks` (checked before
            any member is built).

    Example:

    >>> import numpy as np
    >>> def build():
    ...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> members = train_ensemble(build, 2, np.ones((8, 4)), np.ones((8, 1)), verbose=0)
    >>> len(members)
    2
    """
    n = check_positive_int("n", n)
    seeds = list(range(n)) if seeds is None else _check_seeds(seeds, n)
    check_fit_kwargs(fit_kwargs, set_here=("x", "y"))
    members = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build_fn()
        build_where_possible(model, x, y, fit_kwargs.get("sample_weight"))
        model.fit(x, y, **fit_kwargs)
        members.append(model)
    return members


def _check_seeds(seeds, n):
    """Checks `n` distinct seeds for `set_random_seed` before any member trains; returns ints."""
    received = short_repr(seeds)
    try:
        seeds = list(seeds)
    except TypeError:
        seeds = None
    if seeds is None or len(seeds) != n:
        raise ValueError(
            f"Invalid value for argument `seeds`: expected {n} seeds, one per member. "
            f"Received: seeds={received}"
        )
    if not all(is_seed(seed) for seed in seeds):
        raise ValueError(
            f"Invalid value for argument `seeds`: expected integers in [0, {MAX_SEED}]. "
            f"Received: seeds={received}"
        )
    if len(set(int(seed) for seed in seeds)) != n:
        # Equal seeds give equal members: the ensemble would only repeat a model.
        raise ValueError(
            "Invalid value for argument `seeds`: expected distinct seeds (members "
            f"with the same seed are identical). Received: seeds={received}"
        )
    return [int(seed) for seed in seeds]
