"""Decision rules for a run that is still making progress (pure functions).

`needs_more_training` is seed 003's rule: both curves still fall by more
than `improving_drop` of the reference per window. `slow_but_steady` reads a
curve that falls by less, which the underfitting rules take for a plateau,
yet falls every epoch and no slower than before: a slow start, not a model
at its limit (whose loss slows down as it nears its floor). Plain SGD at
0.05 on a digits CNN with dropout takes the validation loss from 2.305 to
2.195 in 36 epochs, under 0.3% of chance per epoch but faster and faster;
a one-unit bottleneck under Adam falls every epoch too, at a tenth of its
pace before by the end. Both return a curve rule's `(kind, epoch, evidence
[, advice kind])` (see `_curve_rules.curve_findings`).
"""

import numpy as np

from keras_recipes.callbacks._loss_scale import _validated, _window_drop

#: What the learning-rate rules call the curve of `slow_but_steady`: a
#: crawl, as stalled as a plateau when every weight moves under
#: `update_ratio_low` (then the learning rate is why it is slow).
SLOW_PROGRESS = "slow_progress"


def needs_more_training(loss, val, scale, t, start):
    # Seed 003: BOTH curves still improving. A training loss alone keeps
    # falling long after the model stopped getting better.
    if val is None:
        return None
    _, val, _ = _validated(loss, val)
    if broken_in_inference(val, scale, t, start):
        return None
    w = min(t["curve_window"], len(loss) - 1)
    w_val = min(t["curve_window"], len(val) - 1)
    if w_val < 1:
        return None
    drops = [_window_drop(loss, w) / scale.unit, _window_drop(val, w_val) / scale.unit]
    if min(drops) > t["improving_drop"]:
        evidence = {"window_epochs": w, "window_drop": drops[0] * scale.unit,
                    "window_val_drop": drops[1] * scale.unit}
        return "needs_more_training", len(loss) - w, evidence
    return None


def broken_in_inference(val, scale, t, start):
    """Whether the validation loss went `high_loss_factor` times the larger
    of the reference and the starting loss or higher and still ends above
    the reference: a network broken in inference mode (BatchNormalization's
    moving statistics after far too big steps), whose fall from there (from
    2600x chance to 10x) is no progress. A validation set with another label
    prior stays below that: a model that predicts a training prior of 99/1
    loses ln 100 on the minority, under 7x the ln 2 an untrained one starts at."""
    top = t["high_loss_factor"] * max(scale.above(scale.reference), scale.above(start))
    return scale.above(float(np.max(val))) >= top and val[-1] > scale.reference


def slow_but_steady(loss, val, t):
    """`needs_more_training` (advice `slow_progress`) if the validation loss
    (the training loss if never validated) fell in each of the last
    `steady_epochs` epochs, and in the last `curve_window` epochs at
    `steady_pace` or more of its mean pace per epoch before; else `None`.

    Called for a curve the underfitting rules would call a plateau: falling
    every epoch, it is no plateau, and one that does not slow down has far
    to go yet (a curve nearing its floor as 1 - exp(-epoch / tau) keeps
    0.75 of its mean pace only while it has gone less than 40% of the way).
    """
    values, name = (loss, "loss") if val is None else (_validated(loss, val)[1], "val_loss")
    w, steady = int(t["curve_window"]), int(t["steady_epochs"])
    if w < 1 or len(values) < max(steady, 2 * w) + 1:
        return None
    if not np.all(np.diff(values[-steady - 1:]) < 0):
        return None
    pace_before = (values[0] - values[-w - 1]) / (len(values) - w - 1)
    pace = (values[-w - 1] - values[-1]) / w
    if not (pace_before > 0 and pace >= t["steady_pace"] * pace_before):
        return None
    evidence = {"curve": name, "falling_epochs": _falling_epochs(values),
                "pace_per_epoch": float(pace), "pace_per_epoch_before": float(pace_before),
                f"last_{name}": float(values[-1])}
    return "needs_more_training", len(loss) - w, evidence, "slow_progress"


def is_slow_progress(finding):
    """Whether `finding` is `slow_but_steady`'s."""
    return finding.kind == "needs_more_training" and "pace_per_epoch" in finding.evidence


def _falling_epochs(values):
    """How many epochs at the end the loss fell in, each."""
    rises = np.flatnonzero(np.diff(values) >= 0)
    return int(len(values) - 1 - (rises[-1] + 1 if len(rises) else 0))
