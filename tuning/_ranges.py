"""Pure decisions on search ranges: how far to narrow, when a best value sits on an edge.

Ranges are handled in the space they are sampled in: decades for log ranges
(seed 003 narrows the learning rate from 10^[-6, -3] to 10^[-4, -3]), the
plain width for linear ones.
"""

import math
import re

#: Margin kept around the top trials' values when a range is narrowed:
#: (decades on a log range, fraction of the current width on a linear range).
#: Regularization strengths are narrowed less than the learning rate: their
#: good region is wider and flatter (seed 003 keeps 4 decades of L2 but one
#: decade of learning rate after the coarse round).
NARROWING_MARGINS = {
    "regularization": (1.0, 0.25),
    "other": (0.5, 0.1),
}

#: Name words that mark a hyperparameter as a regularization strength.
REGULARIZATION_WORDS = frozenset(
    {"l1", "l2", "reg", "regularization", "regularizer", "decay", "wd", "dropout"}
)

#: Name words that mark a hyperparameter as a fraction below 1 (when its
#: range is below 1): an expanded range never reaches 1.
FRACTION_WORDS = frozenset({"dropout", "momentum", "fraction", "keep", "prob", "probability"})

#: A best value within this fraction of a range's edge (in sampling space:
#: decades for log ranges) is "on the edge" (seed 003: the best learning
#: rate 9.5e-4 of [1e-4, 1e-3] hints that better values lie beyond).
EDGE_FRACTION = 0.1


def hyperparameter_kind(name):
    """Returns `"regularization"` or `"other"` from a hyperparameter's name."""
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    return "regularization" if words & REGULARIZATION_WORDS else "other"


def margin_for(name, log):
    """The narrowing margin for `name`: decades if `log`, else a width fraction."""
    decades, fraction = NARROWING_MARGINS[hyperparameter_kind(name)]
    return decades if log else fraction


def _forward(value, log):
    return math.log10(value) if log else float(value)


def _backward(value, log):
    return 10.0**value if log else float(value)


def narrowed_range(low, high, values, *, log, margin, expand=()):
    """Narrows `[low, high]` to the span of `values` plus a margin.

    The result stays inside `[low, high]`, except past an edge named in
    `expand` (`"min"` and/or `"max"`), which moves outwards by the margin.
    On a linear range the margin is a fraction of the current width.

    Returns:
        A `(new_low, new_high)` tuple of floats.
    """
    lo_t, hi_t = _forward(low, log), _forward(high, log)
    step = margin if log else margin * (hi_t - lo_t)
    picked = [_forward(v, log) for v in values] or [lo_t, hi_t]
    new_lo = max(lo_t, min(picked) - step)
    new_hi = min(hi_t, max(picked) + step)
    if "min" in expand:
        new_lo = lo_t - step
    if "max" in expand:
        new_hi = hi_t + step
    # An edge kept as it was is returned exactly: 10**log10(8) is 7.999...,
    # which an integer range would floor to 7, outside the user's range.
    return (float(low) if new_lo == lo_t else _backward(new_lo, log),
            float(high) if new_hi == hi_t else _backward(new_hi, log))


def edge_of(best_position, top_positions, edge_fraction=EDGE_FRACTION):
    """Says which edge of a range the best trials sit on, if any.

    Positions are in [0, 1] along the range as it is sampled (log-aware).
    An edge is reported when the best value, or more than half of the top
    values, lies within `edge_fraction` of it.

    Returns:
        `"min"`, `"max"` or `None`.
    """
    near = {
        "min": lambda p: p <= edge_fraction,
        "max": lambda p: p >= 1.0 - edge_fraction,
    }
    for edge, is_near in near.items():
        crowded = sum(1 for p in top_positions if is_near(p)) > len(top_positions) / 2
        if is_near(best_position) or crowded:
            return edge
    return None


def snapped_to_grid(low, high, *, origin, step, log, lowest, highest):
    """Widens `[low, high]` outwards to the grid `origin + k * step`.

    A log range's grid is `origin * step**k`. The result stays between the
    grid points nearest inside `[lowest, highest]` (a range expanded past an
    edge passes its own bounds) and keeps at least one grid point.

    Returns:
        A `(new_low, new_high)` tuple of floats on the grid.
    """
    def index(value):
        return math.log(value / origin, step) if log else (value - origin) / step

    def point(k):
        value = origin * step**k if log else origin + k * step
        return float(f"{value:.12g}")  # 0.30000000000000004 -> 0.3

    first, last = math.ceil(index(lowest) - 1e-9), math.floor(index(highest) + 1e-9)
    k_low = min(max(math.floor(index(low) + 1e-9), first), last)
    k_high = max(min(math.ceil(index(high) - 1e-9), last), k_low)
    return point(k_low), point(k_high)


def narrow_hyperparameter(hp, values, expand=()):
    """Narrows a keras-tuner `Float` or `Int` in place around `values`.

    The oracle's hyperparameters are the ones later trials read their range
    from (`hp.Float` in a hypermodel returns the stored value and ignores the
    bounds written there), so changing `min_value`/`max_value` here is what
    narrows the next round. With a `step`, the new bounds lie on the grid
    `min_value + k * step` (`min_value * step**k` on a log range), so later
    rounds sample only values of the user's grid.
    """
    log = hp.sampling == "log"
    low, high = narrowed_range(
        hp.min_value, hp.max_value, values, log=log, margin=margin_for(hp.name, log), expand=expand
    )
    if hp.step is not None:
        lowest = low if "min" in expand else hp.min_value
        highest = high if "max" in expand else hp.max_value
        low, high = snapped_to_grid(low, high, origin=hp.min_value, step=hp.step, log=log,
                                    lowest=lowest, highest=highest)
    if "max" in expand and is_fraction(hp):
        # A rate cannot pass 1: the expanded edge goes halfway there instead.
        high = min(high, (1.0 + hp.max_value) / 2.0)
    if type(hp).__name__ == "Int":
        if hp.step is not None:
            hp.min_value, hp.max_value = int(round(low)), int(round(high))
            return
        low = max(math.floor(low + 1e-9), 1) if log else math.floor(low + 1e-9)
        hp.min_value, hp.max_value = int(low), int(max(math.ceil(high - 1e-9), low + 1))
    else:
        hp.min_value, hp.max_value = float(low), float(high)


def is_fraction(hp):
    """Whether `hp` is a rate in [0, 1) (a dropout rate, a momentum) by its
    name and range, so no range of it may reach 1."""
    words = set(re.split(r"[^a-z0-9]+", hp.name.lower()))
    return bool(words & FRACTION_WORDS) and hp.max_value < 1


def is_limit(hp, edge):
    """Whether `edge` of `hp`'s range is a limit no value can pass: 0 for a
    regularization strength (a dropout rate, an L2 factor) is "none"."""
    return (edge == "min" and hp.min_value == 0
            and hyperparameter_kind(hp.name) == "regularization")


def boundary_warning(hp, top_values, round_number, *, expands=False):
    """A warning dict when the best of `top_values` (best first) sits on an
    edge of `hp` that better values could lie beyond."""
    positions = [hp.value_to_prob(v) for v in top_values]
    edge = edge_of(positions[0], positions)
    if edge is None or is_limit(hp, edge):
        return None
    message = (
        f"Round {round_number}: the best {hp.name}={top_values[0]:.3g} sits at the "
        f"{edge} edge of [{hp.min_value:.3g}, {hp.max_value:.3g}]; better values may "
        "lie beyond it."
    )
    if expands:
        message += (" The next round's range extends past it." if hp.sampling == "log"
                    else " Linear ranges keep their limits.")
    return {"round": round_number, "hyperparameter": hp.name, "edge": edge,
            "value": top_values[0], "min_value": hp.min_value, "max_value": hp.max_value,
            "sampling": hp.sampling, "message": message}


def expansions(boundary_warnings, round_number):
    """{hyperparameter: {edges}} that `round_number`'s warnings ask the next
    round to extend past (log ranges only)."""
    expand = {}
    for warning in boundary_warnings:
        if warning["round"] == round_number and warning["sampling"] == "log":
            expand.setdefault(warning["hyperparameter"], set()).add(warning["edge"])
    return expand
