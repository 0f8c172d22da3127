"""Decision rules over the per-epoch loss curves (pure functions).

Seed 003, guideline step 6: needs more training, overfitting, underfitting,
plus the symptoms of a bad learning rate (oscillating, diverging, not
decreasing, non-finite). Every rule reads a window of epochs and measures
loss changes in units of the reference loss (see `diagnosis_thresholds`).
With label smoothing the loss cannot fall below the entropy of the smoothed
targets (the perfect loss): losses are then read as the part above it, and
changes in units of the reference minus it. The loss scale is in
`_loss_scale`, the oscillation rule in `_oscillation_rules`, the rule of a
loss that spikes and comes back in `_spike_rules`, the rules of a run still
making progress (needs more training, a slow but steady start that is no
underfitting) in `_progress_rules`.
"""

import math

import numpy as np

from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks._loss_scale import LossScale, _validated, _window_drop, usable_perfect
from keras_recipes.callbacks._oscillation_rules import _oscillating
from keras_recipes.callbacks._pairing_rules import underfitting_advice
from keras_recipes.callbacks._progress_rules import needs_more_training, slow_but_steady
from keras_recipes.callbacks._spike_rules import far_above, loss_spikes
from keras_recipes.callbacks.findings import Finding

# After these, the later rules (which compare window ends of a loss that goes
# down smoothly) would read noise.
_STOPPING_KINDS = ("diverging_loss", "loss_not_decreasing", "oscillating_loss")


def reference_loss(curves, chance_loss=None, initial_loss=None):
    """The loss scale: the chance level if known, else the loss at the start."""
    if chance_loss is not None:
        return float(chance_loss)
    return float(initial_loss if initial_loss is not None else curves["loss"].iloc[0])


def progress(curves, reference, perfect=0.0):
    """Fraction of the way from `reference` down to `perfect` the loss went
    by the end (1 - last / reference for a perfect loss of 0)."""
    last, perfect = float(curves["loss"].iloc[-1]), usable_perfect(perfect, reference)
    if not math.isfinite(last) or reference <= 0:
        return -math.inf
    return 1.0 - (last - perfect) / (reference - perfect)


def worst(curves, reference, perfect=0.0):
    """(the highest epoch training loss in multiples of `reference`, both
    counted above `perfect`, and its epoch)."""
    losses = curves["loss"].to_numpy(dtype="float64")
    if not np.isfinite(losses).all() or reference <= 0:
        return math.inf, len(losses) - 1
    epoch, perfect = int(np.argmax(losses)), usable_perfect(perfect, reference)
    return float(losses[epoch] - perfect) / (reference - perfect), epoch


def curve_findings(curves, reference, t, suggestion=None, start=None, chance=None, floor=None,
                   perfect=0.0, batch_normalized=False):
    """Findings about the curves `curves` (columns `loss`, optional `val_loss`).

    Args:
        curves: DataFrame, one row per epoch.
        reference: The reference loss (see `reference_loss`).
        t: Resolved thresholds (`resolve_thresholds()`).
        suggestion: The LR finder's suggestion for the advice, or `None`.
        start: The loss at the start (first batch), or `None` for the first
            epoch's loss.
        chance: The chance-level loss if known, else `None` (then a
            validation loss stuck at chance cannot be told).
        floor: The lowest loss valid labels allow (0 for a cross-entropy),
            or `None` if unknown.
        perfect: The loss of a perfect prediction (the entropy of the
            targets after label smoothing, see `_chance_level.perfect_loss`).
            Defaults to `0.0`.
        batch_normalized: Whether the model has BatchNormalization layers:
            a validation loss that never leaves chance while the training
            loss falls is then first their moving statistics (advice
            `batch_norm_statistics`, not `memorization`). Defaults to `False`.
    """
    loss = curves["loss"].to_numpy(dtype="float64")
    below = _below_floor(curves, reference, t, floor)
    if below is not None:
        return [below]
    bad = np.flatnonzero(~np.isfinite(loss))
    if len(bad):
        evidence = {"epoch_loss": float(loss[bad[0]]), "last_finite_loss": _last_finite(loss)}
        return [Finding("non_finite", None, int(bad[0]), None, evidence, advice_for("non_finite", suggestion))]
    scale = LossScale(float(reference), chance, usable_perfect(perfect, reference))
    if len(loss) < t["min_epochs"] or not scale.unit > 0:
        return []
    val = curves["val_loss"].to_numpy(dtype="float64") if "val_loss" in curves else None
    found, start = [], float(loss[0] if start is None else start)
    for rule in (_oscillating, _diverging, _not_decreasing, _overfitting,
                 _underfitting, needs_more_training):
        result = rule(loss, val, scale, t, start)
        # `_underfitting` may have found a slow start (`needs_more_training`).
        if result is not None and all(finding.kind != result[0] for finding in found):
            found.append(_finding(result, scale, suggestion, batch_normalized))
        if found and found[-1].kind in _STOPPING_KINDS:
            break
    # A spike the run came back from is the story of a run that ended well
    # only: where it ended (overfitting, still improving) comes first.
    spike = None if found else loss_spikes(loss, val, scale, t, start)
    return found if spike is None else [_finding(spike, scale, suggestion)]


#: Advice for a model with BatchNormalization: in inference mode it uses the
#: moving statistics, so a validation loss that never leaves chance while the
#: training loss falls points at those first, then at memorization.
_BATCH_NORM_ADVICE = {"memorization": "batch_norm_statistics"}


def _finding(result, scale, suggestion, batch_normalized=False):
    """A rule's `(kind, epoch, evidence[, advice kind])` as a `Finding` (a
    rule may name advice of its own, for a cause of its kind)."""
    kind, epoch, evidence, *advice = result
    evidence = {key: _plain(value) for key, value in evidence.items()}
    if scale.perfect > 0:
        evidence["perfect_loss"] = scale.perfect
    advice = advice[0] if advice else kind
    if batch_normalized:
        advice = _BATCH_NORM_ADVICE.get(advice, advice)
    advice = advice_for(advice, suggestion)
    return Finding(kind, None, epoch, None, evidence, advice)


def _below_floor(curves, reference, t, floor):
    """`invalid_loss` if a logged loss went below what valid labels allow:
    every later number is built on it, so no other curve rule reads it."""
    if floor is None:
        return None
    tolerance = t["floor_tolerance"] * abs(reference) if math.isfinite(reference) else 0.0
    for column in ("loss", "val_loss"):
        values = curves[column].to_numpy(dtype="float64") if column in curves else np.array([])
        below = np.flatnonzero(values < floor - tolerance)
        if len(below):
            evidence = {"curve": column, "first_loss_below": float(values[below[0]]),
                        "lowest_loss": float(np.nanmin(values)), "loss_floor": float(floor)}
            return Finding("invalid_loss", None, int(below[0]), None, evidence,
                           advice_for("invalid_loss"))
    return None


def _diverging(loss, val, scale, t, start):
    best = int(np.argmin(loss))
    if far_above(loss[-1], loss[best], scale, t):
        return "diverging_loss", best + 1, {"best_loss": loss[best], "last_loss": loss[-1]}
    return None


def _not_decreasing(loss, val, scale, t, start):
    # A fit that starts far below the reference has learned already (a
    # trained model fitted again): a small fall there is convergence.
    if scale.above(start) < t["not_decreasing_start"] * scale.unit:
        return None
    drop = (start - float(np.min(loss))) / scale.unit
    if drop < t["not_decreasing_drop"]:
        evidence = {"start_loss": start, "best_loss": float(np.min(loss)), "epochs": len(loss)}
        return "loss_not_decreasing", 0, evidence
    return None


def _stuck_at_chance(val, t, scale):
    """Whether the validated losses `val` never went materially below chance
    and stopped falling: a validation loss still falling (toward chance from
    above, as after a BatchNormalization lag or on a validation set with
    another label prior) is progress, not a verdict yet."""
    chance = scale.chance
    if chance is None or len(val) < t["min_epochs"]:
        return False
    if float(np.min(val)) < scale.level(1.0 - t["chance_margin"], chance):
        return False
    w = min(t["curve_window"], len(val) - 1)
    return _window_drop(val, w) / scale.above(chance) < t["plateau_drop"]


def _memorizing(loss, val, t, scale):
    """`overfitting` of a model that learned nothing that carries over: the
    training loss fell well below chance, the validation loss never did."""
    if not _stuck_at_chance(val, t, scale):
        return None
    level = scale.level(1.0 - t["memorize_drop"], scale.chance)
    if loss[-1] > level:
        return None
    first = int(np.flatnonzero(loss <= level)[0])
    return "overfitting", first, _chance_evidence(loss, val, scale.chance), "memorization"


def _overfitting(loss, val, scale, t, start):
    if val is None:
        return None
    memorized = _memorizing(loss, _validated(loss, val)[1], t, scale)
    if memorized is not None:
        return memorized
    loss, val, epochs = _validated(loss, val)
    if len(val) < 2:
        return None
    best = int(np.argmin(val))
    rise = val[-1] - val[best]
    if (epochs[-1] - epochs[best] >= t["overfit_patience"]
            and rise > t["overfit_rise"] * scale.above(val[best])
            and rise > t["overfit_min_rise"] * scale.unit and loss[-1] < loss[best]):
        evidence = {"best_val_epoch": int(epochs[best]), "best_val_loss": val[best],
                    "last_val_loss": val[-1], "last_loss": loss[-1]}
        return "overfitting", int(epochs[best]) + 1, evidence
    return None


def _underfitting(loss, val, scale, t, start):
    """`underfitting` of a plateau high above the perfect loss, or of a
    validation loss stuck at chance; `needs_more_training` instead if that
    curve falls every epoch no slower than before (`slow_but_steady`)."""
    found = _plateau_or_nothing_learned(loss, val, scale, t)
    if found is None:
        return None
    steady = slow_but_steady(loss, val, t)
    if steady:
        return steady
    # A training loss that never left chance: x and y may not be paired.
    advice = underfitting_advice(loss, val, scale, t)
    if advice is None:
        return found
    kind, epoch, evidence = found
    return kind, epoch, {**evidence, "best_loss": float(np.min(loss)), "chance_loss": scale.chance}, advice


def _plateau_or_nothing_learned(loss, val, scale, t):
    checked = None if val is None else _validated(loss, val)
    if checked is not None and not len(checked[1]):
        checked = None  # never validated: judged on the training loss alone
    judged = _underfit_curve(loss, checked, scale, t)
    if judged is not None:
        values, epochs, name = judged
        w = min(t["curve_window"], len(values) - 1)
        recent_drop = _window_drop(values, w) / scale.unit
        high = scale.above(values[-1]) > t["underfit_level"] * scale.unit
        if recent_drop < t["plateau_drop"] and high:
            evidence = {"last_loss": loss[-1], "reference_loss": scale.reference,
                        name: recent_drop * scale.unit}
            if checked is not None:
                evidence["last_val_loss"] = checked[1][-1]
            return "underfitting", int(epochs[-w]), evidence
    return None if checked is None else _nothing_learned(loss, checked[1], t, scale)


def _underfit_curve(loss, checked, scale, t):
    """(losses, epochs, name of their window drop) the plateau and level of
    underfitting are read on: the training loss; the validation loss if it
    ends well below it (dropout, on in training only, inflates the training
    loss); `None` if it ends well above it (a gap is no underfitting)."""
    whole = loss, np.arange(len(loss)), "window_drop"
    if checked is None:
        return whole
    train, val, epochs = checked
    gap, allowed = val[-1] - train[-1], t["underfit_gap"] * scale.above(train[-1])
    if gap > allowed:
        return None
    return (val, epochs, "window_val_drop") if -gap > allowed else whole


def _nothing_learned(loss, val, t, scale):
    """`underfitting` of a model whose validation loss stayed at chance and
    stopped improving, while the training loss did not fall well below it
    (heavy dropout keeps it above: the gap is no sign of learning)."""
    if not _stuck_at_chance(val, t, scale):
        return None
    if loss[-1] <= scale.level(1.0 - t["memorize_drop"], scale.chance):
        return None
    w = min(t["curve_window"], len(val) - 1)
    return "underfitting", len(loss) - w, _chance_evidence(loss, val, scale.chance)


def _chance_evidence(loss, val, chance):
    return {"chance_loss": chance, "best_val_loss": float(np.min(val)),
            "last_val_loss": val[-1], "last_loss": loss[-1]}


def _plain(value):
    """NumPy scalars as Python numbers, so evidence prints and serializes cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def _last_finite(values):
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else None
