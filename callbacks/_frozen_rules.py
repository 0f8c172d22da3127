"""Dead units in a frozen layer (a pure function over the model and findings).

`dead_relu`'s advice (He initialization, no negative bias, a lower learning
rate, BatchNormalization, LeakyReLU) changes how weights are set and moved.
The weights of a layer with `trainable = False` are not moved at all: a
pre-trained base that sees inputs of another scale than it was trained on,
a checkpoint loaded wrong, or a layer frozen after big steps killed it stays
dead whatever the optimizer does, and its dead units pass no gradient back
to the layers before it either. The finding keeps its kind and says so
(`trainable: False` in its evidence), with advice that can be followed.
"""

import dataclasses

from keras_recipes.callbacks import _graph
from keras_recipes.callbacks import _layers
from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks._layer_folding import _layer_of


def with_frozen_dead_layers(model, findings):
    """`findings` with each `dead_relu` of a frozen layer advising what can
    revive it (`trainable: False` and `frozen_layers`, the frozen layers
    making its pre-activations, in its evidence).

    Args:
        model: The model that was trained.
        findings: The findings of its run.

    Returns:
        A list of `Finding`s in the same order.
    """
    if model is None or not any(finding.kind == "dead_relu" for finding in findings):
        return list(findings)
    by_name = dict(_layers.leaf_layers(model))
    return [_frozen(finding, by_name) if finding.kind == "dead_relu" else finding
            for finding in findings]


def _frozen(finding, by_name):
    layer = by_name.get(finding.layer, by_name.get(_layer_of(finding.layer or "")))
    sources = [] if layer is None else weighted_sources(layer)
    if not sources or any(source.trainable_weights for source in sources):
        return finding
    evidence = {**finding.evidence, "trainable": False,
                "frozen_layers": [source.name for source in sources]}
    return dataclasses.replace(finding, evidence=evidence, advice=advice_for("frozen_dead_relu"))


def weighted_sources(layer):
    """The layers with weights whose outputs `layer` computes its outputs
    from: itself if it has weights, else the nearest ones before it through
    weightless layers (a `ReLU` or `Activation` layer after a `Dense`, a
    `Dropout` between them); `[]` if none is recorded (the sublayers of a
    user-defined layer, the layers of a subclassed model)."""
    if layer.weights:
        return [layer]
    found, stack, seen = [], list(_graph.inbound_layers(layer)), set()
    while stack:
        inner = stack.pop()
        if id(inner) in seen:
            continue
        seen.add(id(inner))
        if inner.weights:
            found.append(inner)
        else:
            stack.extend(_graph.inbound_layers(inner))
    return found
