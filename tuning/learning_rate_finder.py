"""Step 3 of the training guideline: find a learning rate that makes the loss go down."""

import math

import numpy as np

from keras_recipes.recipes import _validation
from keras_recipes.tuning import _model_parts
from keras_recipes.tuning._learning_rate_sweep import LearningRateFinderResult


def find_learning_rate(
    model,
    x,
    y,
    min_lr=1e-7,
    max_lr=10.0,
    steps=100,
    batch_size=32,
    smoothing=0.98,
    divergence_factor=4.0,
    seed=0,
):
    """Sweeps the learning rate exponentially and suggests a good one.

    Trains one batch per step while the learning rate grows from `min_lr` to
    `max_lr`, records each batch's own loss (not Keras' running mean), smooths
    it with a debiased exponential moving average and stops once the smoothed
    loss exceeds `divergence_factor` times its best. Two suggestions come
    out: "steepest" (the fastest descent of the smoothed loss against the log
    learning rate) and "valley" (the middle of the longest descending run,
    the more robust one, used as `.suggestion`). Afterwards the weights, the
    optimizer's variables (including `iterations`) and its learning rate are
    restored exactly.

    Args:
        model: A compiled Keras model whose optimizer has a float learning
            rate (not a schedule).
        x: Training inputs as arrays (NumPy arrays or tensors, not a
            `tf.data.Dataset`); batches cycle through them.
        y: Training targets.
        min_lr: First learning rate (finite, > 0). Defaults to `1e-7`.
        max_lr: Last learning rate (finite, > `min_lr`). Defaults to `10.0`.
        steps: Number of batches of the sweep. Defaults to `100`.
        batch_size: Batch size. Defaults to `32`.
        smoothing: EMA coefficient beta. Defaults to `0.98`.
        divergence_factor: Stop when the smoothed loss exceeds this times
            its best. Defaults to `4.0`.
        seed: Seed of the batch shuffling, or `None` to keep the data order.
            Defaults to `0`.

    Returns:
        A `LearningRateFinderResult` with `.suggestion`, `.suggestions`,
        `.to_dataframe()` and `.plot()`.

    Raises:
        ValueError: If the model is not compiled, its learning rate is a
            schedule, `x` or `y` is not an array, or an argument is out of
            range.

    Example:

    >>> result = find_learning_rate(model, x_train, y_train, steps=60)
    >>> result.suggestion
    0.0123...
    """
    _model_parts.check_compiled(model, "find_learning_rate")
    min_lr = _check_finite_positive("min_lr", min_lr)
    max_lr = _check_finite_positive("max_lr", max_lr)
    if max_lr <= min_lr:
        raise ValueError(
            "Invalid learning rate range: expected `max_lr` > `min_lr`. "
            f"Received: min_lr={min_lr}, max_lr={max_lr}"
        )
    steps = _validation.check_positive_int("steps", steps)
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    smoothing = _validation.check_rate("smoothing", smoothing)
    divergence_factor = _validation.check_positive("divergence_factor", divergence_factor)
    _validation.check_seed(seed)
    x, y = _model_parts.as_arrays(x, y, "find_learning_rate")
    _check_settable(model.optimizer)
    learning_rates = min_lr * (max_lr / min_lr) ** np.linspace(0.0, 1.0, steps)
    snapshot = _snapshot(model, x[:1])
    try:
        losses = _sweep(model, x, y, learning_rates, batch_size, smoothing,
                        divergence_factor, seed)
    finally:
        _restore(model, snapshot)
    return LearningRateFinderResult(learning_rates[: len(losses)], losses, smoothing)


def _check_finite_positive(name, value):
    value = _validation.check_positive(name, value)
    if not math.isfinite(value):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite number > 0. "
            f"Received: {name}={value!r}"
        )
    return value


def _check_settable(optimizer):
    try:
        optimizer.learning_rate = float(optimizer.learning_rate.numpy())
    except TypeError as error:
        raise ValueError(
            "`find_learning_rate` sets the learning rate batch by batch, which "
            "is not possible when the optimizer was built with a "
            "`LearningRateSchedule`. Compile with a float learning rate for the "
            f"sweep. Received: learning_rate={_schedule_name(optimizer)}"
        ) from error


def _schedule_name(optimizer):
    learning_rate = optimizer.get_config()["learning_rate"]
    if isinstance(learning_rate, dict):
        return learning_rate.get("class_name", learning_rate)
    return learning_rate


def _snapshot(model, one_example):
    if not model.built:
        model(one_example)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return (
        [v.numpy() for v in model.variables],
        [v.numpy() for v in model.optimizer.variables],
        float(model.optimizer.learning_rate.numpy()),
    )


def _restore(model, snapshot):
    weights, optimizer_values, learning_rate = snapshot
    for variable, value in zip(model.variables, weights):
        variable.assign(value)
    for variable, value in zip(model.optimizer.variables, optimizer_values):
        variable.assign(value)
    model.optimizer.learning_rate = learning_rate


def _sweep(model, x, y, learning_rates, batch_size, smoothing, factor, seed):
    batches = _batches(len(x), batch_size, seed)
    losses, average, best = [], 0.0, math.inf
    for step, learning_rate in enumerate(learning_rates):
        rows = next(batches)
        model.optimizer.learning_rate = float(learning_rate)
        # reset_metrics=True (the default) makes the returned loss this batch's.
        logs = model.train_on_batch(x[rows], y[rows], return_dict=True)
        loss = float(logs["loss"])
        losses.append(loss)
        average = smoothing * average + (1.0 - smoothing) * loss
        smoothed = average / (1.0 - smoothing ** (step + 1))
        if not math.isfinite(smoothed) or smoothed > factor * best:
            break
        best = min(best, smoothed)
    return np.asarray(losses)


def _batches(n, batch_size, seed):
    rng = None if seed is None else np.random.default_rng(seed)
    while True:
        order = np.arange(n) if rng is None else rng.permutation(n)
        for start in range(0, n - min(batch_size, n) + 1, batch_size):
            yield order[start : start + batch_size]
