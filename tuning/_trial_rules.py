"""Pure decisions on single trials: median early stopping and divergence."""

import math
import statistics

#: A trial is compared with its peers only once this many peers reached the
#: same epoch: with fewer, the median is noise.
MIN_PEERS = 3

#: Epochs a trial always gets before the median rule may stop it, as a
#: fraction of its round's epochs (at least 2 epochs: the first epoch's
#: score mostly reflects the initialization).
GRACE_FRACTION = 0.25


def grace_epochs(round_epochs):
    """Epochs a trial of a round with `round_epochs` epochs always trains."""
    return max(2, math.ceil(GRACE_FRACTION * round_epochs))


def best_so_far(curve, step, direction):
    """The best value of `curve` (a `{step: value}` dict) up to `step`."""
    seen = [value for s, value in curve.items() if s <= step]
    if not seen:
        return None
    return max(seen) if direction == "max" else min(seen)


def worse_than_median(value, peer_values, direction, min_peers=MIN_PEERS):
    """The median stopping rule: is `value` worse than its peers' median?

    Args:
        value: The trial's best objective value so far.
        peer_values: The peers' best values up to the same epoch.
        direction: `"max"` or `"min"`.
        min_peers: Fewest peers for a decision. Defaults to `MIN_PEERS`.

    Returns:
        `True` when the trial should stop.
    """
    if len(peer_values) < min_peers:
        return False
    median = statistics.median(peer_values)
    return value < median if direction == "max" else value > median


def is_diverged(losses, objective_values):
    """A trial diverged when a training loss or an objective value is not finite."""
    values = list(losses) + list(objective_values)
    return any(not math.isfinite(float(v)) for v in values)
