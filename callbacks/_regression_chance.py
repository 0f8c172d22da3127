"""The chance level of a regression loss: the loss of the best constant.

A model that ignores its input can at best predict one constant per target
column: the mean for a mean squared error (its loss is the variance), the
median for a mean absolute error (the mean absolute deviation from it). The
Huber and log-cosh losses have no such closed form; their best constant lies
between the mean and the median and is found numerically (both losses are
convex in it, so a bounded scalar search finds the minimum).
"""

import numpy as np
from scipy import optimize


def _variance(targets):
    return float(np.mean(np.var(targets, axis=0)))


def _median_deviation(targets):
    return float(np.mean(np.abs(targets - np.median(targets, axis=0))))


def _huber(delta):
    def pointwise(errors):
        absolute = np.abs(errors)
        return np.where(absolute <= delta, 0.5 * errors ** 2, delta * absolute - 0.5 * delta ** 2)
    return pointwise


def _log_cosh(errors):
    # log(cosh(x)) without overflow, as Keras computes it.
    return errors + np.logaddexp(0.0, -2.0 * errors) - np.log(2.0)


def best_constant_loss(targets, pointwise):
    """The mean of `pointwise(targets - c)` at the best constant `c` of each
    column, averaged over the columns (a pure function).

    Args:
        targets: An array of shape (n, k).
        pointwise: The loss of each error, convex in it.

    Returns:
        A float >= 0.

    Example:

    >>> best_constant_loss(np.array([[0.0], [2.0]]), lambda e: e ** 2)  # the variance
    1.0
    """
    losses = []
    for column in targets.T:
        low, high = float(column.min()), float(column.max())
        if low == high:
            losses.append(0.0)
            continue
        found = optimize.minimize_scalar(
            lambda constant, column=column: float(np.mean(pointwise(column - constant))),
            bounds=(low, high), method="bounded", options={"xatol": 1e-9 * (high - low)})
        losses.append(float(found.fun))
    return float(np.mean(losses))


def _huber_delta(loss):
    # Keras keeps a `Huber` object's `delta` only there (its `get_config`
    # leaves it out); the `huber` function's default is 1.
    return float(getattr(loss, "_fn_kwargs", {}).get("delta", 1.0))


#: Regression losses by function or class name -> the loss of the best
#: constant prediction on targets of shape (n, k), given the loss itself.
REGRESSION_CHANCE = {
    "mean_squared_error": lambda loss, targets: _variance(targets),
    "MeanSquaredError": lambda loss, targets: _variance(targets),
    "mean_absolute_error": lambda loss, targets: _median_deviation(targets),
    "MeanAbsoluteError": lambda loss, targets: _median_deviation(targets),
    "huber": lambda loss, targets: best_constant_loss(targets, _huber(1.0)),
    "Huber": lambda loss, targets: best_constant_loss(targets, _huber(_huber_delta(loss))),
    "log_cosh": lambda loss, targets: best_constant_loss(targets, _log_cosh),
    "LogCosh": lambda loss, targets: best_constant_loss(targets, _log_cosh),
}
