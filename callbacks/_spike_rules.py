"""A training loss that spikes and comes back (a pure function).

`_curve_rules._diverging` reads the last epoch: a training loss
`diverging_factor` (1.5x) its best and `diverging_rise` (10%) of the
reference above it is diverging. The same rise in the middle of a run,
after which the loss falls back, is a spike: steps too big for where the
weights had got to threw them out (Adam late in training, once the second
moments of quiet weights have shrunk; a batch of outliers under too high a
rate). A spike or two are too few jumps for `oscillating_loss`'s count, but
the same fault with the same fixes: `loss_spikes` names it
`oscillating_loss`, with advice of its own, when the validation loss jumped
too. Study 5's M05 (two heads on a Dense(512) trunk, Adam 3e-3, batch 16):
0.055 -> 0.445 at epoch 25 and 0.028 -> 0.495 at epoch 62, the validation
loss following. No healthy run of study 5 (46) or of the fault zoo rises
that far: at most 5.5% of chance above its best (10 tanh layers under SGD
with momentum, 2.8x its best).
"""

import numpy as np


def loss_spikes(loss, val, scale, t, start):
    """`oscillating_loss` (advice `loss_spikes`) if the training loss rose
    to `diverging_factor` times its best before and `diverging_rise` of the
    reference above it, then fell back; else `None`. A curve rule of
    `_curve_rules.curve_findings`, run when no other curve rule found
    anything (a diverging loss is at its last epoch; a run that ended
    overfitting or still improving is told so first)."""
    spikes = [spike for spike in _spikes(loss, scale, t) if _confirmed(spike, val, scale, t)]
    if not spikes:
        return None
    best = np.minimum.accumulate(loss)
    top = max((epoch for first, last in spikes for epoch in range(first, last + 1)),
              key=lambda epoch: loss[epoch] - best[epoch - 1])
    evidence = {"curve": "loss", "spikes": len(spikes),
                "spike_epochs": [int(first) for first, _ in spikes],
                "largest_spike_loss": float(loss[top]), "best_loss_before": float(best[top - 1]),
                "largest_spike_factor": float(scale.above(loss[top]) / scale.above(best[top - 1])),
                "reference_loss": scale.reference}
    return "oscillating_loss", int(spikes[0][0]), evidence, "loss_spikes"


def _spikes(loss, scale, t):
    """[(first epoch, last epoch)] of each run of epochs whose training loss
    is as far above its best before as `_diverging` asks, followed by an
    epoch back below that (a run up to the last epoch is no spike: it
    diverges)."""
    high = far_above(loss[1:], np.minimum.accumulate(loss)[:-1], scale, t)
    high = np.concatenate([[False], high, [False]])  # epochs 0 .. n-1, then an end mark
    firsts = np.flatnonzero(high[1:] & ~high[:-1]) + 1
    lasts = np.flatnonzero(high[:-1] & ~high[1:])
    return [(int(first), int(last)) for first, last in zip(firsts, lasts) if last < len(loss) - 1]


def far_above(loss, best, scale, t):
    """Whether `loss` (a number or an array) is as far above `best` as a
    diverging loss is: `diverging_factor` times it above the scale's floor,
    and `diverging_rise` of the reference higher. Read at the last epoch
    by `_curve_rules._diverging`, at every epoch here."""
    grew = scale.above(loss) > t["diverging_factor"] * scale.above(best)
    return grew & ((loss - best) / scale.unit > t["diverging_rise"])


def _confirmed(spike, val, scale, t):
    """Whether the validation loss jumped too (`oscillation_rise` of the
    reference above its best before, at the end of a spike epoch or the one
    after): weights thrown out of their minimum read worse on any data,
    while a training loss alone may be the noise of one bad batch. A run
    never validated has only the training loss; a spike without a
    validated epoch (`validation_freq`) is not confirmed."""
    if val is None or not np.isfinite(val).any():
        return True
    first, last = spike
    before, during = val[:first], val[first:last + 2]
    if not np.isfinite(before).any() or not np.isfinite(during).any():
        return False
    return (np.nanmax(during) - np.nanmin(before)) / scale.unit >= t["oscillation_rise"]
