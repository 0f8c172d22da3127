"""Does the compiled cross-entropy read the model's output as what it is?

A cross-entropy takes probabilities, or logits with `from_logits=True`. A
linear output (scores) under `from_logits=False` is read as probabilities:
the loss clips the scores to [0, 1] (`CategoricalCrossentropy` divides them
by their sum first) and its gradients vanish outside that range. On digits,
a linear `Dense(10)` under `SparseCategoricalCrossentropy()` pushes every
score above 1, where all clip alike: the loss sits at exactly ln 10, with
10% accuracy. The reverse, probabilities read as logits, is harmless for a softmax or sigmoid
output under the plain cross-entropies: Keras (TensorFlow backend)
computes them from the logits under that activation, with a warning. It
does not do so for the focal cross-entropies (they apply their own sigmoid
or softmax to the probabilities) nor for the other probability activations:
the loss is then taken on `sigmoid(p)` or `softmax(p)`, which cannot go
below a floor (0.1 for a sigmoid output under `BinaryFocalCrossentropy`,
0.2 for 10 softmax units under `CategoricalFocalCrossentropy`).

A regression loss (squared, absolute, Huber, log-cosh error) misreads
nothing, but an output activation bounds what it can predict: a sigmoid
output on standardized targets cannot go below 0 or above 1, and its MSE
stalls at 0.56 of the targets' variance where a linear output reaches 0.004.
With the training targets given, an output whose range leaves out more than
`output_range_fraction` of them is reported as a `loss_output_mismatch` too.

The check reads the model, not the run: each output's compiled loss and the
activation of the layer making it (one loss for all outputs, a list or a
dict of losses; the targets per output as a dict or list matching the
outputs). Where that activation cannot be read (a subclassed model, an
output from a custom layer or an op), nothing is reported for that output.
"""

import dataclasses

import keras
import numpy as np

from keras_recipes.callbacks import _advice
from keras_recipes.callbacks import _output_losses
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks._activation_kinds import activation_kind
from keras_recipes.callbacks._regression_chance import REGRESSION_CHANCE
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds
from keras_recipes.callbacks.findings import Finding
from keras_recipes.tuning import _model_parts

#: Output activations whose values are probabilities, in [0, 1].
PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid", "hard_sigmoid", "sparse_sigmoid", "sparsemax")
#: Output activations whose values are scores (logits), not probabilities.
SCORE_ACTIVATIONS = (
    "linear", "relu", "leaky_relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish",
    "softplus", "softsign", "tanh", "hard_tanh", "hard_silu", "exponential", "log_softmax",
    "log_sigmoid", "squareplus", "sparse_plus", "soft_shrink", "hard_shrink", "tanh_shrink",
    "prelu",
)
#: Activations whose logits Keras recovers for a plain cross-entropy with
#: `from_logits=True` (it warns and computes the loss from them).
LOGITS_RECOVERED = ("softmax", "sigmoid")
#: Cross-entropies that apply their own sigmoid or softmax to the output
#: with `from_logits=True`, recovering no logits.
OWN_ACTIVATION_LOSSES = ("BinaryFocalCrossentropy", "CategoricalFocalCrossentropy")
#: Regression losses by function or class name (those with a chance level):
#: they take the output as the prediction itself, so its activation's range
#: bounds the predictions.
REGRESSION_LOSSES = tuple(REGRESSION_CHANCE)
#: Output activation -> (lowest, highest) value it can output.
OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0), "hard_tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0),
    "relu": (0.0, float("inf")), "relu6": (0.0, 6.0), "softplus": (0.0, float("inf")),
    "exponential": (0.0, float("inf")),
}
# Targets this close to a bound count as inside (float32 rounding of 0 and 1).
_RANGE_TOLERANCE = 1e-6

#: What a loss that misreads the output brings about, dropped in favour of the
#: `loss_output_mismatch` finding: the curves measure another function than
#: the cross-entropy of the predictions (digits: a loss stuck at ln 10, or
#: falling to 0.04 while even/odd accuracy stays at 55%), and units die or
#: saturate on its clipped gradients. A blow-up (non-finite values, exploding gradients) and
#: labels outside the loss's range are still reported with it.
EXPLAINED_BY_MISMATCH = (
    "vanishing_gradient", "dead_relu", "saturated_activation", "learning_rate_too_high",
    "learning_rate_too_low", "diverging_loss", "oscillating_loss", "loss_not_decreasing",
    "overfitting", "underfitting", "needs_more_training",
)

def loss_output_mismatch(loss, from_logits, activation):
    """What the loss wrongly reads the output as, or `None` (a pure function).

    Args:
        loss: The cross-entropy's `Loss` class name, e.g.
            `"SparseCategoricalCrossentropy"`.
        from_logits: The loss's `from_logits`.
        activation: The output layer's activation name (`"linear"` for
            none), or `None` if unknown.

    Returns:
        `"probabilities"` (scores read as probabilities), `"logits"`
        (probabilities read as logits, and Keras does not recover the
        logits) or `None`.

    Example:

    >>> loss_output_mismatch("SparseCategoricalCrossentropy", False, "linear")
    'probabilities'
    >>> loss_output_mismatch("SparseCategoricalCrossentropy", True, "softmax") is None
    True
    """
    if not from_logits and activation in SCORE_ACTIVATIONS:
        return "probabilities"
    recovered = activation in LOGITS_RECOVERED and loss not in OWN_ACTIVATION_LOSSES
    if from_logits and activation in PROBABILITY_ACTIVATIONS and not recovered:
        return "logits"
    return None


def outside_range(activation, targets):
    """The share of `targets` an output with `activation` cannot reach, or
    `None` for an activation of unbounded range (a pure function).

    Example:

    >>> outside_range("sigmoid", np.array([-1.0, 0.0, 0.5, 2.0]))
    0.5
    """
    low, high = OUTPUT_RANGES.get(activation, (-float("inf"), float("inf")))
    if (low, high) == (-float("inf"), float("inf")):
        return None
    values = np.asarray(targets, dtype="float64")
    outside = (values < low - _RANGE_TOLERANCE) | (values > high + _RANGE_TOLERANCE)
    return float(np.mean(outside))


def loss_output_findings(model, y=None, thresholds=None):
    """The `loss_output_mismatch` findings of a compiled model, one per output
    at most.

    Args:
        model: A compiled Keras model (read, not run).
        y: The training targets, as passed to `fit`: the range check needs
            them (a dict or list matching the outputs for several). Defaults
            to `None`.
        thresholds: `resolve_thresholds(...)`, for its
            `output_range_fraction`: the share of targets out of the output's
            range above which it is a mismatch. Defaults to `None`, for
            `DIAGNOSIS_THRESHOLDS`.

    Returns:
        A list of `Finding`s on the output layers whose loss reads them as
        what they are not, or whose range leaves out the targets (other
        losses and activations that cannot be read give none).

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile(loss="sparse_categorical_crossentropy")
    >>> [finding.kind for finding in loss_output_findings(model)]
    ['loss_output_mismatch']
    """
    outside_fraction = (thresholds or resolve_thresholds())["output_range_fraction"]
    outputs = [(key, layer, loss) for key, layer, loss in _output_losses.output_losses(model)
               if loss is not None]
    targets = _output_losses.output_targets(y, [key for key, _, _ in outputs])
    findings = []
    for key, layer, loss in outputs:
        activation = _activation_name(layer)
        evidence = None if activation is None else (
            _cross_entropy_evidence(loss, activation)
            or _range_evidence(loss, activation, targets.get(key), outside_fraction))
        if evidence:
            where = {} if key is None or key == layer.name else {"output": key}
            findings.append(Finding(
                kind="loss_output_mismatch", layer=layer.name, epoch=0, step=0,
                evidence={**where, **evidence[0]}, advice=_advice.advice_for(evidence[1]),
            ))
    return findings


def _cross_entropy_evidence(loss, activation):
    """`(evidence, advice kind)` of a cross-entropy misreading the output, or `None`."""
    found = _model_parts.cross_entropy(_output_losses.as_compiled(loss))
    read_as = None if found is None else loss_output_mismatch(*found, activation)
    if read_as is None:
        return None
    return ({"loss": found[0], "from_logits": found[1], "output_activation": activation,
             "loss_reads_output_as": read_as}, "loss_output_mismatch")


def _range_evidence(loss, activation, targets, outside_fraction):
    """`(evidence, advice kind)` of a regression output whose range leaves
    out more than `outside_fraction` of its targets, or `None`."""
    name = _model_parts.loss_name(_output_losses.as_compiled(loss))
    if targets is None or name not in REGRESSION_LOSSES:
        return None
    outside = outside_range(activation, targets)
    if outside is None or outside <= outside_fraction:
        return None
    low, high = OUTPUT_RANGES[activation]
    return ({"loss": name, "output_activation": activation, "output_range": (low, high),
             "targets_outside_range": outside}, "output_range")


def with_mismatch(mismatch, findings):
    """The findings of a run with the `loss_output_mismatch` findings first.

    The kinds in `EXPLAINED_BY_MISMATCH` are dropped when there is a
    mismatch, and named in the first mismatch's evidence as `explains`.

    Args:
        mismatch: `loss_output_findings(model)`: a list of findings.
        findings: The other findings, in `KIND_ORDER`.

    Returns:
        A list of `Finding`s, still in `KIND_ORDER` (the mismatches come first).
    """
    if not mismatch:
        return list(findings)
    explained = [finding.kind for finding in findings if finding.kind in EXPLAINED_BY_MISMATCH]
    evidence = {**mismatch[0].evidence, **({"explains": explained} if explained else {})}
    kept = [finding for finding in findings if finding.kind not in EXPLAINED_BY_MISMATCH]
    return [dataclasses.replace(mismatch[0], evidence=evidence), *mismatch[1:]] + kept


def _activation_name(layer):
    if isinstance(layer, keras.layers.ReLU) and layer.max_value is not None:
        return None  # capped at 1: probabilities
    if isinstance(layer, _statistics.STANDALONE_ACTIVATIONS):
        name = _statistics.activation_name(layer)  # "elu(alpha=0.5)" is an ELU here
        return None if name is None else activation_kind(name)
    function = getattr(layer, "activation", None)
    if not callable(function):
        return None
    return next((name for name in PROBABILITY_ACTIVATIONS + SCORE_ACTIVATIONS
                 if _builtin(name) is function), None)


def _builtin(name):
    """Keras' activation function of that name, or `None` (a name this Keras
    version lacks, or `"prelu"`, a layer only)."""
    try:
        return keras.activations.get(name)
    except ValueError:
        return None
