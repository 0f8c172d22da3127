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

The check reads the model, not the run: the compiled loss and the
activation of the layer making the only output. Where that activation
cannot be read (a subclassed model, an output from a custom layer or an op),
nothing is reported.
"""

import dataclasses

import keras

from keras_recipes.callbacks import _advice
from keras_recipes.callbacks import _graph
from keras_recipes.callbacks import _statistics
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


def loss_output_findings(model):
    """The `loss_output_mismatch` finding of a compiled model, if any.

    Args:
        model: A compiled Keras model (read, not run).

    Returns:
        A list with one `Finding` on the output layer when its
        cross-entropy reads the output as what it is not, else `[]` (other
        losses, several outputs, an output activation that cannot be read).

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile(loss="sparse_categorical_crossentropy")
    >>> [finding.kind for finding in loss_output_findings(model)]
    ['loss_output_mismatch']
    """
    loss, output = _model_parts.cross_entropy(model), output_activation(model)
    if loss is None or output is None:
        return []
    (name, from_logits), (layer, activation) = loss, output
    read_as = loss_output_mismatch(name, from_logits, activation)
    if read_as is None:
        return []
    return [Finding(
        kind="loss_output_mismatch", layer=layer, epoch=0, step=0,
        evidence={"loss": name, "from_logits": from_logits, "output_activation": activation,
                  "loss_reads_output_as": read_as},
        advice=_advice.advice_for("loss_output_mismatch"),
    )]


def with_mismatch(mismatch, findings):
    """The findings of a run with the `loss_output_mismatch` finding first.

    The kinds in `EXPLAINED_BY_MISMATCH` are dropped when there is a
    mismatch, and named in its evidence as `explains`.

    Args:
        mismatch: `loss_output_findings(model)`: a list of at most one finding.
        findings: The other findings, in `KIND_ORDER`.

    Returns:
        A list of `Finding`s, still in `KIND_ORDER` (the mismatch comes first).
    """
    if not mismatch:
        return list(findings)
    explained = [finding.kind for finding in findings if finding.kind in EXPLAINED_BY_MISMATCH]
    evidence = {**mismatch[0].evidence, **({"explains": explained} if explained else {})}
    kept = [finding for finding in findings if finding.kind not in EXPLAINED_BY_MISMATCH]
    return [dataclasses.replace(mismatch[0], evidence=evidence)] + kept


def output_activation(model):
    """`(layer name, activation name)` of the layer making the model's only
    output (inside a nested model if that makes it), or `None` if unknown."""
    operations = _graph.output_operations(model)
    while len(operations) == 1 and isinstance(operations[0], keras.Model):
        operations = _graph.output_operations(operations[0])
    if len(operations) != 1:  # several outputs, or no graph (subclassed, not built)
        return None
    activation = _activation_name(operations[0])
    return None if activation is None else (operations[0].name, activation)


def _activation_name(layer):
    if isinstance(layer, keras.layers.ReLU) and layer.max_value is not None:
        return None  # capped at 1: probabilities
    if isinstance(layer, _statistics.STANDALONE_ACTIVATIONS):
        return _statistics.activation_name(layer)
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
