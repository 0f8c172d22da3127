"""Where each activation is flat: dead units beyond ReLU, and their advice.

A ReLU unit is dead when it is <= 0 for every example: its slope is 0 there.
GELU, SiLU (swish), mish, ELU, SELU and softplus are never exactly flat, but
far enough down their negative tail their slope is as good as 0, and a unit
whose pre-activations sit there for every example passes no gradient back,
whatever the learning rate. `FLAT_TAILS` gives, for each, the band of outputs
where the slope is below `FLAT_SLOPE`; a unit is dead when every output of
the batch lies in it (an ELU layer's alpha moves its tail: `flat_tail`).
Leaky ReLU and PReLU keep their slope on the whole negative side: they have
no dead units.
"""

import math
import re

import tensorflow as tf

from keras_recipes.callbacks._advice import advice_for

#: A slope below this is flat: the sigmoid's at an output of 0.01 (its
#: saturation threshold), so "dead" and "saturated" mean the same gradient.
FLAT_SLOPE = 0.01

#: name -> (lowest output, highest output, pre-activation where the tail
#: starts). Measured: the output and the pre-activation where |slope| is
#: `FLAT_SLOPE` (`None`: the tail is unbounded below). GELU, SiLU and mish
#: outputs in the band from a pre-activation near 0 would need every example
#: within 0.007 (GELU) of it, a unit that carries nothing either way.
FLAT_TAILS = {
    "gelu": (-0.0033, 0.0, -3.07),
    "silu": (-0.0119, 0.0, -6.26),
    "swish": (-0.0119, 0.0, -6.26),
    "mish": (-0.0119, 0.0, -6.26),
    # ELU with alpha 1: the tail is -1, the slope y + 1.
    "elu": (None, -0.99, -4.61),
    # SELU: the tail is -1.7581 (scale * alpha), the slope y + 1.7581.
    "selu": (None, -1.7481, -5.17),
    # softplus: the slope is 1 - exp(-y), about y near 0.
    "softplus": (None, 0.01005, -4.6),
}


#: How an `ELU` layer with an alpha other than 1 is named ("elu(alpha=0.5)").
_ELU_NAME = re.compile(r"elu\(alpha=(.+)\)")


def elu_name(alpha):
    """The activation name of an ELU with `alpha`: "elu" for the default 1
    (`FLAT_TAILS["elu"]`), else e.g. "elu(alpha=0.5)", whose flat tail is its
    own (`flat_tail`)."""
    alpha = float(alpha)
    return "elu" if alpha == 1.0 else f"elu(alpha={alpha:g})"


def activation_kind(name):
    """The activation `name` is a form of: "elu" for "elu(alpha=0.5)", else `name`."""
    return name if _elu_alpha(name) is None else "elu"


def _elu_alpha(name):
    """The alpha in an ELU's name other than "elu" (`elu_name`), else `None`."""
    match = _ELU_NAME.fullmatch(name) if isinstance(name, str) else None
    return None if match is None else float(match.group(1))


def flat_tail(name):
    """`(lowest output, highest output, pre-activation where it starts)` of
    `name`'s flat tail (`FLAT_TAILS`), or `None`.

    An ELU with alpha `a` has its tail at -a and the slope `y + a` there
    (`a * exp(x)`): flat below `FLAT_SLOPE - a`, from `x = ln(FLAT_SLOPE / a)`.
    With `0 <= a <= FLAT_SLOPE` its whole negative side is that flat: dead
    means every output <= 0, as for ReLU. A negative alpha puts the negative
    side's outputs above 0, among the positive side's: no band of outputs
    tells its flat units, so it gets none.
    """
    alpha = _elu_alpha(name)
    if alpha is None:
        return FLAT_TAILS.get(name)
    if not alpha >= 0.0:
        return None
    if alpha <= FLAT_SLOPE:
        return (None, 0.0, 0.0)
    return (None, FLAT_SLOPE - alpha, math.log(FLAT_SLOPE / alpha))


def dead_band(name):
    """`(low, high)` of `name`'s flat tail, `True` for ReLU (<= 0), else `None`."""
    if name in ("relu", "relu6"):
        return True
    tail = flat_tail(name)
    return None if tail is None else tail[:2]


def tail_distance(y, band, const):
    """A tensor that is <= 0 exactly where `y` lies in `band` (`dead_band`).

    Adds no op for ReLU, 1 for a tail unbounded below (ELU, SELU, softplus)
    and 2 for a bounded one (GELU, SiLU, mish): a unit's maximum of it is
    then <= 0 when the unit is dead, as a ReLU unit's output is.
    """
    if band is True:
        return y
    low, high = band
    above = y - const(float(high)) if high else y
    return above if low is None else tf.maximum(above, const(float(low)) - y)


def flat_tail_words(activation):
    """How the advice names `activation`'s flat tail, e.g. for `gelu`:
    "gelu's flat negative tail (outputs between -0.0033 and 0, ...)"."""
    low, high, start = flat_tail(activation)
    if start == 0.0:  # an ELU whose alpha is at most `FLAT_SLOPE`
        return (f"{activation}'s flat negative side (outputs of at most 0, where its slope "
                f"is at most its alpha, {_elu_alpha(activation):g})")
    outputs = f"outputs below {high:.4g}" if low is None else f"outputs between {low:.4g} and {high:.4g}"
    return (f"{activation}'s flat negative tail ({outputs}, from pre-activations "
            f"below about {start:.3g}, where its slope is under {FLAT_SLOPE:g})")


def dead_advice(activation, suggestion=None):
    """The advice of a `dead_relu` finding on a layer with `activation`."""
    if flat_tail(activation) is None:
        return advice_for("dead_relu", suggestion)
    return f"These units sit on {flat_tail_words(activation)} " + advice_for("dead_flat_tail")


def without_collapsed_signal(found, recent):
    """`found` without the `dead_relu` findings of GELU/SiLU/mish layers fed
    by a layer whose outputs hardly vary (`recent`: the monitor's rows of the
    window, layers in forward order).

    Outputs in those tails' band also come from pre-activations within a hair
    of 0, where the slope is about 0.5: a signal that shrank to nothing on its
    way through (a deep net initialized far too small) puts every unit there.
    Units are on the tail only when what feeds them carries a signal: the
    watched layer before has a median std of at least the band's width.
    """
    order = list(recent["layer"].unique())
    spread = recent.groupby("layer", sort=False)["std"].median()
    kept = []
    for finding in found:
        tail = flat_tail(finding.evidence.get("activation"))
        position = order.index(finding.layer) if finding.layer in order else 0
        if finding.kind == "dead_relu" and tail is not None and tail[0] is not None and position > 0:
            feeder = float(spread[order[position - 1]])
            if not feeder >= -tail[0]:
                continue
        kept.append(finding)
    return kept
