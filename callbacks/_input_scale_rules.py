"""Inputs (and regression targets) far from standardized (pure functions).

The doctor never sees `x`, but the first watched layer's output at the first
record (step 0: the initial weights) shows its scale. With standardized
inputs and a Glorot/He initialization a Dense or convolution pre-activation
has a variance of at most 2 (He: `2 / fan_in` per weight, summed over
`fan_in` inputs of variance 1), so a ReLU output has a root mean square
(RMS, `sqrt(mean**2 + std**2)`) of about 1 and a linear one about 1.4; an
RMS many times that means inputs many times their standardized scale (or a
first layer initialized far too large). Bounded activations (tanh, sigmoid)
cannot show it: they saturate instead (`saturated_activation`, whose advice
says to standardize). For regression targets given as `y`, their RMS is read
directly.
"""

import dataclasses
import math

import numpy as np

from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks.findings import Finding

#: Findings the scale of the inputs (or targets) can bring about: they get
#: the scale in their evidence and "standardize" first in their advice. The
#: others (overfitting, a loss below its floor, a loss that misreads the
#: output) have causes of their own.
SCALE_CONSEQUENCES = (
    "non_finite", "exploding_gradient", "vanishing_gradient", "dead_relu",
    "saturated_activation", "learning_rate_too_high", "learning_rate_too_low",
    "diverging_loss", "oscillating_loss", "loss_not_decreasing", "underfitting",
    "needs_more_training",
)


def first_layer_scale(activations):
    """`(layer, activation, RMS of its output)` of the first watched layer at
    the first record, or `None` (nothing recorded, a bounded activation, a
    non-finite number)."""
    if activations is None or activations.empty:
        return None
    first = activations[activations["step"] == activations["step"].min()].iloc[0]
    if str(first["activation"]) in ("sigmoid", "tanh", "softmax", "hard_sigmoid"):
        return None
    rms = math.hypot(float(first["mean"]), float(first["std"]))
    if not math.isfinite(rms):
        return None
    return str(first["layer"]), str(first["activation"]), rms


def target_scale(targets, classification):
    """The RMS of regression targets (`None` for a classification or no `y`)."""
    if classification or not isinstance(targets, np.ndarray):
        return None
    rms = float(np.sqrt(np.mean(np.square(targets.astype("float64")))))
    return rms if math.isfinite(rms) else None


def with_scale(findings, activations, targets, classification, t):
    """The findings with the inputs' (and regression targets') scale.

    When the first watched layer's output starts at an RMS of `input_scale`
    or more (inputs far from standardized), the findings in
    `SCALE_CONSEQUENCES` get `first_layer_rms` in their evidence and the
    advice to standardize the inputs first; if none of them is found, an
    `unscaled_inputs` finding is added first. Regression targets with an RMS
    of `input_scale` or more add `target_rms` and the advice to standardize
    the targets to the same findings (no finding of their own: a model
    can learn raw targets, it only needs more steps).
    """
    found = list(findings)
    targets_rms = target_scale(targets, classification)
    if targets_rms is not None and targets_rms >= t["input_scale"]:
        found = _explained(found, {"target_rms": targets_rms}, "standardize_targets")
    scale = first_layer_scale(activations)
    if scale is None or scale[2] < t["input_scale"]:
        return found
    layer, activation, rms = scale
    evidence = {"first_layer": layer, "first_layer_activation": activation,
                "first_layer_rms": rms, "standardized_rms": 1.0}
    if any(f.kind in SCALE_CONSEQUENCES for f in found):
        return _explained(found, evidence, "standardize_inputs")
    own = Finding("unscaled_inputs", layer, 0, int(activations["step"].min()), evidence,
                  advice_for("unscaled_inputs"))
    # A loss that misreads the output still comes first.
    mismatch = [f for f in found if f.kind == "loss_output_mismatch"]
    return mismatch + [own] + [f for f in found if f.kind != "loss_output_mismatch"]


def _explained(findings, evidence, advice_kind):
    first = advice_for(advice_kind)
    return [
        dataclasses.replace(f, evidence={**f.evidence, **evidence}, advice=f"{first} {f.advice}")
        if f.kind in SCALE_CONSEQUENCES else f
        for f in findings
    ]
