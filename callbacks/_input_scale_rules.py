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

Inputs many times smaller than standardized show the other way: that RMS,
divided by the first layer's gain (what inputs of RMS 1 give its
pre-activations under its initial kernel, so a kernel initialized far too
small is not taken for small inputs), far below 1 (`input_scale_low`).
There the first layer's gradients are as many times smaller and its biases
alone set its outputs, so training crawls, or a step on the biases kills
every ReLU; the findings this brings about get the advice to standardize
first. Only when the first watched layer reads the inputs as they are
(`input_gains`): after an `Embedding` or a normalization layer its scale is
that layer's, not the inputs'. Never from a recurrent first layer (an RNN,
also inside `TimeDistributed` or `Bidirectional`): its outputs' scale is
made by its recurrence (its recurrent gain to the power of the steps), not
by the inputs; standardized inputs under an `Orthogonal(gain=1.5)`
recurrent kernel start a ReLU `SimpleRNN` of 30 steps at an RMS of 700.
"""

import dataclasses
import math

import keras
import numpy as np

from keras_recipes.callbacks import _layers
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

#: Findings inputs far SMALLER than standardized bring about: steps that
#: barely move the first layer's weights (a slow or stalled curve, a
#: learning rate that looks too low, a first layer without gradient), and
#: ReLUs that die when a step on the biases, which alone set the first
#: layer's outputs, pushes them below 0 (`dead_relu`, or units killed by
#: big steps: `learning_rate_too_high`). Measured at digits / 1600 and
#: standardized wine / 100: `needs_more_training`, `loss_not_decreasing`,
#: `dead_relu`, `learning_rate_too_high`.
TINY_SCALE_CONSEQUENCES = (
    "vanishing_gradient", "dead_relu", "learning_rate_too_high", "learning_rate_too_low",
    "loss_not_decreasing", "underfitting", "needs_more_training",
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


#: Watched layers whose kernel's last axis is its units (its fan-out), so
#: `input_gains` reads their gain from the kernel alone.
_KERNEL_LAYERS = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def input_gains(model):
    """`{name: gain}` of the watched layers (`_layers.activation_layers`)
    that read `model`'s inputs as they are: in the monitors' order
    (`_layers.leaf_layers`), up to the first layer that holds weights (an
    `Embedding`, a `BatchNormalization`, an adapted `Normalization`, the
    first `Dense`), that one included if watched. Reshaping, pooling,
    dropout or `Rescaling` before them change no scale that standardizing
    would fix. Read on a built model, before its first step.

    The gain is the RMS a pre-activation gets from inputs of RMS 1:
    `sqrt(fan_in * mean(kernel ** 2))` for a `Dense` or convolution (He:
    1.41; Glorot: 1.15 for 64 inputs and 32 units, 0.09 for a first Conv2D
    of 256 filters on one channel), 1 for a layer without weights. A first
    layer with another kernel (a transposed or depthwise convolution, a
    quantized one) is left out: its gain is not read here. A recurrent
    first watched layer (`is_recurrent`) is in with a gain of `None`: its
    outputs say nothing of the inputs' scale.
    """
    watched = _layers.activation_layers(model)
    if watched and is_recurrent(watched[0][1]):
        return {watched[0][0]: None}
    watched = {id(layer) for _, layer, _ in watched}
    gains = {}
    for name, layer in _layers.leaf_layers(model):
        if layer.weights:
            gain = _kernel_gain(layer) if id(layer) in watched else None
            if gain is not None:
                gains[name] = gain
            break
        if id(layer) in watched:
            gains[name] = 1.0
    return gains


def is_recurrent(layer):
    """Whether `layer` is a recurrent layer (any `keras.layers.RNN`), also
    inside `TimeDistributed` or `Bidirectional` (which wraps only RNNs)."""
    while isinstance(layer, keras.layers.TimeDistributed):
        layer = layer.layer
    return isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))


def _kernel_gain(layer):
    inner = layer.layer if isinstance(layer, keras.layers.TimeDistributed) else layer
    kernel = getattr(inner, "kernel", None) if isinstance(inner, _KERNEL_LAYERS) else None
    if kernel is None or not keras.backend.is_float_dtype(kernel.dtype):
        return None
    values = np.asarray(kernel.numpy(), dtype="float64")
    return float(np.sqrt(np.sum(np.square(values)) / values.shape[-1]))


def reads_tiny_inputs(activations, gains, t):
    """`(input RMS estimate, gain)` when the first watched layer's start shows
    inputs far smaller than standardized, else `None`.

    The layer must read the inputs as they are (its name in `gains`, from
    `input_gains`); its output RMS divided by its gain (about the inputs'
    RMS: 0.7x it through a ReLU, 0.5x through SiLU or GELU near 0) must be
    at most `input_scale_low`, so a first layer initialized far too small is
    not read as small inputs; above 0 (inputs and weights that are not 0
    never give exactly 0); and fewer than `dead_fraction` of its units dead
    at the first record: dead units output 0 (or their flat tail) whatever
    the inputs (a ReLU layer behind a bias of -3 starts at an RMS of 0).
    """
    scale = first_layer_scale(activations)
    gain = None if scale is None else gains.get(scale[0])
    if not gain or not 0.0 < scale[2] / gain <= t["input_scale_low"]:
        return None
    first = activations[activations["step"] == activations["step"].min()].iloc[0]
    if float(first["dead_fraction"]) >= t["dead_fraction"]:
        return None
    return scale[2] / gain, gain


def with_scale(findings, activations, targets, classification, t, gains=None):
    """The findings with the inputs' (and regression targets') scale.

    When the first watched layer's output starts at an RMS of `input_scale`
    or more (inputs far from standardized), the findings in
    `SCALE_CONSEQUENCES` get `first_layer_rms` in their evidence and the
    advice to standardize the inputs first; if none of them is found, an
    `unscaled_inputs` finding is added first. When it reads the inputs as
    they are and their RMS, estimated from its output and its kernel
    (`reads_tiny_inputs`; `gains` from `input_gains`, `None`: not read), is
    `input_scale_low` or less, the findings in `TINY_SCALE_CONSEQUENCES` get
    the same evidence with the estimate, and the advice to standardize
    first; no finding of its own: such a model may learn anyway
    (standardized breast-cancer features / 100 under Adam 1e-2: validation
    accuracy 0.958, standardized 0.951). Regression targets with an RMS
    of `input_scale` or more add `target_rms` and the advice to standardize
    the targets to the same findings (no finding of their own: a model
    can learn raw targets, it only needs more steps). A first layer with a
    gain of `None` in `gains` (recurrent) is not read for the inputs' scale.
    """
    found = list(findings)
    targets_rms = target_scale(targets, classification)
    if targets_rms is not None and targets_rms >= t["input_scale"]:
        found = _explained(found, {"target_rms": targets_rms}, "standardize_targets")
    scale = first_layer_scale(activations)
    # A recurrent first layer's scale is its recurrence's (`input_gains`).
    if scale is None or (gains is not None and scale[0] in gains and gains[scale[0]] is None):
        return found
    layer, activation, rms = scale
    evidence = {"first_layer": layer, "first_layer_activation": activation,
                "first_layer_rms": rms, "standardized_rms": 1.0}
    tiny = reads_tiny_inputs(activations, gains or {}, t)
    if tiny is not None:
        evidence.update(input_rms_estimate=tiny[0], first_layer_gain=tiny[1])
        return _explained(found, evidence, "standardize_tiny_inputs", TINY_SCALE_CONSEQUENCES)
    if rms < t["input_scale"]:
        return found
    if any(f.kind in SCALE_CONSEQUENCES for f in found):
        return _explained(found, evidence, "standardize_inputs")
    own = Finding("unscaled_inputs", layer, 0, int(activations["step"].min()), evidence,
                  advice_for("unscaled_inputs"))
    # A loss that misreads the output still comes first.
    mismatch = [f for f in found if f.kind == "loss_output_mismatch"]
    return mismatch + [own] + [f for f in found if f.kind != "loss_output_mismatch"]


def _explained(findings, evidence, advice_kind, kinds=SCALE_CONSEQUENCES):
    first = advice_for(advice_kind)
    return [
        dataclasses.replace(f, evidence={**f.evidence, **evidence}, advice=f"{first} {f.advice}")
        if f.kind in kinds else f
        for f in findings
    ]
