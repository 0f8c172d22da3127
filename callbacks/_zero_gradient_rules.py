"""Which units a layer without any gradient has lost (a pure function).

`_layer_rules.zero_gradient_findings` reports a layer whose kernel gradient
is exactly 0 at every step as `vanishing_gradient`: dead units after it, an
op without a gradient or a `stop_gradient`. A ReLU applied inside a
user-defined layer's `call` (`keras.ops.relu`) is no activation the monitor
sees, but the Dense layer feeding it is watched: when that layer's outputs
(the ReLU's inputs) are all below 0, for every example and unit, at
the records of the window, the ReLU outputs 0 everywhere and passes no
gradient back. That is dead units, named `dead_relu` with the evidence
(bias -10 on digits: outputs at most -8.2, every kernel's gradient 0).
"""

import dataclasses

from keras_recipes.callbacks import _layer_rules
from keras_recipes.callbacks._advice import advice_for

#: The recorded activation of a layer whose outputs are its pre-activations.
_PRE_ACTIVATION = "linear"


def dead_behind_call(findings, activations, t, suggestion=None):
    """`findings` with a zero-gradient `vanishing_gradient` renamed `dead_relu`,
    at the first layer without gradient whose recorded outputs are below 0
    at `persistence` of the window's records (their largest value, `max`,
    is under 0). Outputs of exactly 0 are inputs of 0 (a layer behind dead
    units, reported with them), not dead units of its own.

    Args:
        findings: The layer findings (`vanishing_findings` and the rest).
        activations: `ActivationStats.to_dataframe()` or `None`.
        t: Resolved thresholds.
        suggestion: The LR finder's suggestion for the advice, or `None`.

    Returns:
        The list of findings, the renamed one in place.
    """
    # Dead units the monitor sees explain the zero gradients already.
    if activations is None or activations.empty or any(f.kind == "dead_relu" for f in findings):
        return findings
    return [_renamed(finding, activations, t, suggestion) for finding in findings]


def _renamed(finding, activations, t, suggestion):
    if finding.kind != "vanishing_gradient" or "layers_without_gradient" not in finding.evidence:
        return finding

    def condition(rows):
        return rows["max"] < 0.0

    # The first layer without gradient whose outputs are all negative: the
    # layers before it get no gradient because its units are dead.
    pre = activations[activations["activation"] == _PRE_ACTIVATION]
    for layer in finding.evidence["layers_without_gradient"]:
        mine = pre[pre["layer"] == layer]
        if mine.empty or layer not in _layer_rules.persistent_layers(mine, condition, t):
            continue
        recent = _layer_rules.window(mine, t)
        epoch, step = _layer_rules.first_step(mine, layer, condition)
        evidence = {"max_output": float(recent["max"].max()), **finding.evidence}
        return dataclasses.replace(finding, kind="dead_relu", layer=layer, epoch=epoch, step=step,
                                   evidence=evidence, advice=advice_for("dead_relu_in_call", suggestion))
    return finding
