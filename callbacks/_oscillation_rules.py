"""Decision rules for a loss that jumps up and down (pure functions).

A jump is an epoch-to-epoch change of `oscillation_rise` of the loss scale.
`_oscillating` is the curve rule for `oscillating_loss` (run by
`_curve_rules.curve_findings`); `validation_jumps` counts the validation
loss's jumps for `_learning_rate_rules`, which reads a jagged curve with big
updates as too high a learning rate.
"""

import numpy as np

from keras_recipes.callbacks._loss_scale import LossScale, _validated, _window_drop, usable_perfect


def _jumps(values, scale, t):
    """(epochs the loss rose by a jump, epochs it fell by one), as boolean arrays."""
    steps = np.diff(values) / scale.unit
    return steps > t["oscillation_rise"], steps < -t["oscillation_rise"]


def validation_jumps(curves, reference, t, perfect=0.0):
    """(jumps up, jumps down, epoch-to-epoch changes) of the validated losses,
    a jump being a change of `oscillation_rise` of the reference; all 0
    without `min_epochs` validated epochs."""
    if "val_loss" not in curves or not len(curves):
        return 0, 0, 0
    val = curves["val_loss"].to_numpy(dtype="float64")
    val = val[np.isfinite(val)]
    scale = LossScale(float(reference), None, usable_perfect(perfect, reference))
    if len(val) < t["min_epochs"] or not scale.unit > 0:
        return 0, 0, 0
    rises, falls = _jumps(val, scale, t)
    return int(rises.sum()), int(falls.sum()), len(val) - 1


def _oscillates(values, scale, t):
    rises, falls = _jumps(values, scale, t)
    return rises.sum() >= 2 and falls.sum() >= 2 and rises.mean() >= t["oscillation_fraction"]


def _oscillating(loss, val, scale, t, start):
    """`oscillating_loss`: the loss jumps up and down.

    The validation loss reads the weights at one point of each epoch, the
    training loss is a mean over an epoch of moving weights (with dropout
    on). Jumps of the training loss alone, while the validation loss never
    jumps up twice, are the noise of dropout or small batches, not of too
    big steps; jumps of the validation loss alone are (the epoch means
    smooth the training loss), unless it rises beyond them (overfitting).
    """
    validated, epochs = (None, None) if val is None else _validated(loss, val)[1:]
    if validated is not None and len(validated) < t["min_epochs"]:
        validated = None
    confirmed = validated is None or _jumps(validated, scale, t)[0].sum() >= 2
    if _oscillates(loss, scale, t) and confirmed:
        return _oscillation(loss, np.arange(len(loss)), "loss", scale, t)
    if (validated is not None and _oscillates(validated, scale, t)
            and not _rises_beyond_noise(validated, t)):
        return _oscillation(validated, epochs, "val_loss", scale, t)
    return None


def _oscillation(values, epochs, curve, scale, t):
    rises, falls = _jumps(values, scale, t)
    evidence = {"curve": curve, "rising_epochs": int(rises.sum()),
                "falling_epochs": int(falls.sum()), "largest_rise": float(np.max(np.diff(values))),
                "reference_loss": scale.reference}
    return "oscillating_loss", int(epochs[np.flatnonzero(rises)[0] + 1]), evidence


def _rises_beyond_noise(values, t):
    """Whether the best of the last `curve_window` epochs is higher than the
    best before by more than the loss moved per epoch (the median change)
    since its best: a rise that held, not one noisy epoch."""
    w = min(t["curve_window"], len(values) - 1)
    since_best = values[int(np.argmin(values)):]
    noise = float(np.median(np.abs(np.diff(since_best)))) if len(since_best) > 1 else 0.0
    return -_window_drop(values, w) > noise
