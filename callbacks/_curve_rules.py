"""Decision rules over the per-epoch loss curves (pure functions).

Seed 003, guideline step 6: needs more training, overfitting, underfitting,
plus the symptoms of a bad learning rate (oscillating, diverging, not
decreasing, non-finite). Every rule reads a window of epochs and measures
loss changes in units of the reference loss (see `diagnosis_thresholds`).
"""

import math

import numpy as np

from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks.findings import Finding

# After these, the later rules (which compare window ends of a loss that goes
# down smoothly) would read noise.
_STOPPING_KINDS = ("diverging_loss", "loss_not_decreasing", "oscillating_loss")


def reference_loss(curves, chance_loss=None, initial_loss=None):
    """The loss scale: the chance level if known, else the loss at the start."""
    if chance_loss is not None:
        return float(chance_loss)
    return float(initial_loss if initial_loss is not None else curves["loss"].iloc[0])


def progress(curves, reference):
    """Fraction of the reference loss removed by the end: 1 - last / reference."""
    last = float(curves["loss"].iloc[-1])
    if not math.isfinite(last) or reference <= 0:
        return -math.inf
    return 1.0 - last / reference


def worst(curves, reference):
    """(the highest epoch training loss in multiples of `reference`, its epoch)."""
    losses = curves["loss"].to_numpy(dtype="float64")
    if not np.isfinite(losses).all() or reference <= 0:
        return math.inf, len(losses) - 1
    epoch = int(np.argmax(losses))
    return float(losses[epoch]) / reference, epoch


def curve_findings(curves, reference, t, suggestion=None, start=None, chance=None, floor=None):
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
    """
    loss = curves["loss"].to_numpy(dtype="float64")
    below = _below_floor(curves, reference, t, floor)
    if below is not None:
        return [below]
    bad = np.flatnonzero(~np.isfinite(loss))
    if len(bad):
        evidence = {"epoch_loss": float(loss[bad[0]]), "last_finite_loss": _last_finite(loss)}
        return [Finding("non_finite", None, int(bad[0]), None, evidence, advice_for("non_finite", suggestion))]
    if len(loss) < t["min_epochs"] or not reference > 0:
        return []
    val = curves["val_loss"].to_numpy(dtype="float64") if "val_loss" in curves else None
    found, start = [], float(loss[0] if start is None else start)
    for rule in (_oscillating, _diverging, _not_decreasing, _overfitting,
                 _underfitting, _needs_more_training):
        finding = rule(loss, val, float(reference), t, start, chance)
        if finding is not None:
            # A rule may name advice of its own, for a cause of its kind.
            kind, epoch, evidence, *advice = finding
            evidence = {key: _plain(value) for key, value in evidence.items()}
            advice = advice_for(advice[0] if advice else kind, suggestion)
            found.append(Finding(kind, None, epoch, None, evidence, advice))
        if found and found[-1].kind in _STOPPING_KINDS:
            break
    return found


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


def _diverging(loss, val, ref, t, start, chance=None):
    best = int(np.argmin(loss))
    rise = (loss[-1] - loss[best]) / ref
    if loss[-1] > t["diverging_factor"] * loss[best] and rise > t["diverging_rise"]:
        return "diverging_loss", best + 1, {"best_loss": loss[best], "last_loss": loss[-1]}
    return None


def _not_decreasing(loss, val, ref, t, start, chance=None):
    drop = (start - float(np.min(loss))) / ref
    if drop < t["not_decreasing_drop"]:
        evidence = {"start_loss": start, "best_loss": float(np.min(loss)), "epochs": len(loss)}
        return "loss_not_decreasing", 0, evidence
    return None


def _oscillating(loss, val, ref, t, start, chance=None):
    steps = np.diff(loss) / ref
    rises, falls = steps > t["oscillation_rise"], steps < -t["oscillation_rise"]
    fraction = float(rises.mean())
    if rises.sum() >= 2 and falls.sum() >= 2 and fraction >= t["oscillation_fraction"]:
        first = int(np.flatnonzero(rises)[0]) + 1
        evidence = {"rising_epochs": int(rises.sum()), "falling_epochs": int(falls.sum()),
                    "largest_rise": float(np.max(np.diff(loss))), "reference_loss": ref}
        return "oscillating_loss", first, evidence
    return None


def _validated(loss, val):
    """(training losses, validation losses, epoch numbers) of the epochs that
    were validated (all of them unless `fit` had `validation_freq` > 1)."""
    epochs = np.flatnonzero(np.isfinite(val))
    return loss[epochs], val[epochs], epochs


def _stuck_at_chance(val, t, chance):
    """Whether the validated losses `val` never went materially below chance
    and stopped falling: a validation loss still falling (toward chance from
    above, as after a BatchNormalization lag or on a validation set with
    another label prior) is progress, not a verdict yet."""
    if chance is None or len(val) < t["min_epochs"]:
        return False
    if float(np.min(val)) < (1.0 - t["chance_margin"]) * chance:
        return False
    w = min(t["curve_window"], len(val) - 1)
    return _window_drop(val, w) / chance < t["plateau_drop"]


def _memorizing(loss, val, t, chance):
    """`overfitting` of a model that learned nothing that carries over: the
    training loss fell well below chance, the validation loss never did."""
    if not _stuck_at_chance(val, t, chance):
        return None
    level = (1.0 - t["memorize_drop"]) * chance
    if loss[-1] > level:
        return None
    first = int(np.flatnonzero(loss <= level)[0])
    return "overfitting", first, _chance_evidence(loss, val, chance), "memorization"


def _overfitting(loss, val, ref, t, start, chance=None):
    if val is None:
        return None
    memorized = _memorizing(loss, _validated(loss, val)[1], t, chance)
    if memorized is not None:
        return memorized
    loss, val, epochs = _validated(loss, val)
    if len(val) < 2:
        return None
    best = int(np.argmin(val))
    rise = val[-1] - val[best]
    if (epochs[-1] - epochs[best] >= t["overfit_patience"] and rise > t["overfit_rise"] * val[best]
            and rise > t["overfit_min_rise"] * ref and loss[-1] < loss[best]):
        evidence = {"best_val_epoch": int(epochs[best]), "best_val_loss": val[best],
                    "last_val_loss": val[-1], "last_loss": loss[-1]}
        return "overfitting", int(epochs[best]) + 1, evidence
    return None


def _window_drop(values, w):
    """How much lower the best of the last `w` epochs is than the best before
    (robust to a single noisy epoch at either end)."""
    return float(np.min(values[:-w]) - np.min(values[-w:]))


def _underfitting(loss, val, ref, t, start, chance=None):
    w = min(t["curve_window"], len(loss) - 1)
    recent_drop = _window_drop(loss, w) / ref
    checked = None if val is None else _validated(loss, val)
    if checked is not None and not len(checked[1]):
        checked = None  # never validated: judged on the training loss alone
    gap_ok = checked is None or abs(checked[1][-1] - checked[0][-1]) <= t["underfit_gap"] * checked[0][-1]
    if recent_drop < t["plateau_drop"] and loss[-1] > t["underfit_level"] * ref and gap_ok:
        evidence = {"last_loss": loss[-1], "reference_loss": ref, "window_drop": recent_drop * ref}
        if checked is not None:
            evidence["last_val_loss"] = checked[1][-1]
        return "underfitting", len(loss) - w, evidence
    return None if checked is None else _nothing_learned(loss, checked[1], t, chance)


def _nothing_learned(loss, val, t, chance):
    """`underfitting` of a model whose validation loss stayed at chance and
    stopped improving, while the training loss did not fall well below it
    (heavy dropout keeps it above: the gap is no sign of learning)."""
    if not _stuck_at_chance(val, t, chance) or loss[-1] <= (1.0 - t["memorize_drop"]) * chance:
        return None
    w = min(t["curve_window"], len(val) - 1)
    return "underfitting", len(loss) - w, _chance_evidence(loss, val, chance)


def _chance_evidence(loss, val, chance):
    return {"chance_loss": chance, "best_val_loss": float(np.min(val)),
            "last_val_loss": val[-1], "last_loss": loss[-1]}


def _needs_more_training(loss, val, ref, t, start, chance=None):
    # Seed 003: BOTH curves still improving. A training loss alone keeps
    # falling long after the model stopped getting better.
    if val is None:
        return None
    _, val, _ = _validated(loss, val)
    w = min(t["curve_window"], len(loss) - 1)
    w_val = min(t["curve_window"], len(val) - 1)
    if w_val < 1:
        return None
    drops = [_window_drop(loss, w) / ref, _window_drop(val, w_val) / ref]
    if min(drops) > t["improving_drop"]:
        evidence = {"window_epochs": w, "window_drop": drops[0] * ref,
                    "window_val_drop": drops[1] * ref}
        return "needs_more_training", len(loss) - w, evidence
    return None


def _plain(value):
    """NumPy scalars as Python numbers, so evidence prints and serializes cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def _last_finite(values):
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else None
