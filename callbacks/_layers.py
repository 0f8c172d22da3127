"""Which layers the monitors watch, under which names, and which weights.

The monitors watch every layer of a model that is not a model itself,
walking `model.layers` into nested models and into user-defined layers (a
`keras.layers.Layer` subclass holding sublayers, such as a residual block):
their sublayers are watched too, and the block itself for what belongs to
no sublayer (its own weights, or an `activation` it applies). Names are
`layer.name`, made unique with the "/"-joined path where two different
layers share a name.
"""

import keras

from keras_recipes.callbacks import _graph
from keras_recipes.callbacks import _statistics

#: Weight names that count as a layer's kernel for gradient and weight norms.
#: Layers with none of them (normalization layers) use every trainable weight
#: except these `_BIAS_NAMES`.
KERNEL_NAMES = (
    "kernel",
    "recurrent_kernel",
    "embeddings",
    "depthwise_kernel",
    "pointwise_kernel",
)
_BIAS_NAMES = ("bias", "beta")


def check_names(layers):
    """Checks a list of layer names (`None`: every layer) and returns it as a list."""
    if layers is None:
        return None
    if isinstance(layers, (list, tuple)) and all(isinstance(name, str) for name in layers):
        return list(layers)
    raise ValueError(
        "`layers` must be a list of layer names. Expected a list of "
        f"strings or None. Received: layers={layers!r}"
    )


def leaf_layers(model):
    """Returns `[(name, layer), ...]` for the layers the monitors watch in
    `model`, in order (a user-defined layer after its sublayers)."""
    found = []
    _walk(model.layers, (), found, set())
    counts = {}
    for _, layer in found:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    return [
        ("/".join(path) if counts[layer.name] > 1 else layer.name, layer)
        for path, layer in found
    ]


def _walk(layers, path, found, seen):
    for layer in layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        inner = layer.layers if isinstance(layer, keras.Model) else sublayers(layer)
        _walk(inner, path + (layer.name,), found, seen)
        if not isinstance(layer, keras.Model):
            found.append((path + (layer.name,), layer))


def sublayers(layer):
    """The layers a user-defined layer holds (the monitors walk into them),
    or `[]`: for a model, and for Keras's own layers and subclasses of them
    (their inner layers are Keras's business: a `TimeDistributed` layer is
    read through its inner layer's activation, for instance)."""
    if isinstance(layer, keras.Model) or not _user_defined(layer):
        return []
    # Keras has no public list of a layer's sublayers; `_flatten_layers` is
    # what its own weight tracking walks.
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _user_defined(layer):
    """Whether the first class from Keras among `layer`'s bases is `Layer`."""
    for base in type(layer).__mro__:
        if base.__module__.startswith("keras."):
            return base is keras.layers.Layer
    return False


def activation_layers(model, names=None):
    """Returns `[(name, layer, activation), ...]` for the layers to watch.

    Args:
        model: A Keras model.
        names: Layer names to keep, or `None` for every layer with an
            activation.

    Raises:
        ValueError: If a name in `names` is not a layer with an activation.
    """
    watched = [
        (name, layer, _statistics.activation_name(layer))
        for name, layer in leaf_layers(model)
    ]
    watched = [entry for entry in watched if entry[2] is not None]
    if names is None:
        return watched
    known = [entry[0] for entry in watched]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            "Some requested layers are not layers with an activation in "
            f"this model. Expected names among {known}. "
            f"Received: layers={list(names)}"
        )
    return [entry for entry in watched if entry[0] in names]


def call_labels(watched, indices):
    """Names the watched layer calls `indices` (positions in `watched`, in
    call order): a layer's first call is its name, later calls of a shared
    layer are "name/call_1", "name/call_2"... Returns `[(label, activation)]`."""
    calls, labels = {}, []
    for index in indices:
        name, _, activation = watched[index]
        count = calls[index] = calls.get(index, -1) + 1
        labels.append((name if count == 0 else f"{name}/call_{count}", activation))
    return labels


def kernel_weights(layer):
    """The trainable weights of `layer` whose gradients the monitor reports
    (of a user-defined layer, those that belong to none of its sublayers)."""
    weights = layer.trainable_weights
    held = {id(weight) for inner in sublayers(layer) for weight in inner.trainable_weights}
    weights = [weight for weight in weights if id(weight) not in held]
    kernels = [w for w in weights if _short_name(w) in KERNEL_NAMES]
    if kernels:
        return kernels
    return [w for w in weights if _short_name(w) not in _BIAS_NAMES]


def gradient_layers(model):
    """Returns `[(name, [weights...]), ...]` for layers with kernel weights."""
    result = []
    for name, layer in leaf_layers(model):
        weights = kernel_weights(layer)
        if weights:
            result.append((name, weights))
    return result


def scale_layers(model):
    """Names of the gradient layers without a kernel (normalization layers):
    their scale's gradient says nothing of how the signal flows back."""
    return [
        name for name, weights in gradient_layers(model)
        if not any(_short_name(weight) in KERNEL_NAMES for weight in weights)
    ]


def _short_name(weight):
    return weight.name.split("/")[-1].split(":")[0]


def output_layer_names(model):
    """Names (as `leaf_layers` gives them) of the layers making `model`'s
    outputs, nested models looked into; empty for a subclassed model."""
    names = {id(layer): name for name, layer in leaf_layers(model)}
    return tuple(names[id(layer)] for layer in _graph.output_making_layers(model)
                 if id(layer) in names)


def dominators(model):
    """Returns `{name: {names}}`: for each watched layer, the watched layers
    every path from the model's inputs to it goes through. A layer that
    outputs only zeros starves the layers it dominates of any signal.

    A Sequential model is a chain; a functional one is read from its graph
    (a shared layer is dominated by what every path to every one of its
    calls goes through); nested models are followed inwards, and a nested
    model's output is dominated by what dominates its inside's output. The
    wiring inside a user-defined layer is unknown: its sublayers are
    dominated by what dominates it, and its output by that and itself.
    A subclassed model's layers get none: its call order says nothing of
    the paths between them.
    """
    names = {id(layer): name for name, layer in leaf_layers(model)}
    found = {}
    _model_dominators(model, frozenset(), names, found)
    return {name: set(leaves) for name, leaves in found.items() if leaves}


def _model_dominators(model, inherited, names, found):
    """Fills `found` for `model`'s layers; returns the layers dominating its output."""
    layers = list(model.layers)
    above = _direct_dominators(model, layers)
    outputs = {}  # id(layer) -> the watched layers that dominate its output
    for layer in layers:
        before = set(inherited)
        for other in (above or {}).get(id(layer), ()):
            before |= outputs.get(other, set())
        outputs[id(layer)] = _layer_dominators(layer, before, names, found)
    if above is None or not layers:
        return set(inherited)
    if isinstance(model, keras.Sequential):
        return outputs[id(layers[-1])]
    ends = [outputs.get(id(op), set(inherited)) for op in _graph.output_operations(model)]
    return set.intersection(*ends) if ends else set(inherited)


def _layer_dominators(layer, before, names, found):
    """Fills `found` for `layer` (and what it holds), which every path to
    goes through `before`; returns the layers dominating its output."""
    if isinstance(layer, keras.Model):
        return before | _model_dominators(layer, frozenset(before), names, found)
    for inner in sublayers(layer):
        _layer_dominators(inner, before, names, found)
    name = names.get(id(layer), "/")
    if "/" not in name:  # names made unique by a path are left out
        found[name] = before
    return before | {name}


def _direct_dominators(model, layers):
    """`{id(layer): {id(layer), ...}}` among `model`'s direct layers (X is
    listed for L when every path to every call of L goes through a call of
    X), or `None` for a subclassed model."""
    if isinstance(model, keras.Sequential):
        return {id(layer): {id(other) for other in layers[:i]} for i, layer in enumerate(layers)}
    calls = _graph.call_nodes(model)
    if calls is None:
        return None
    calls = {id(layer): calls[id(layer)] for layer in layers if id(layer) in calls}
    found = {}
    for blocked_id, blocked_calls in calls.items():
        memo, blocked = {}, {id(node) for node in blocked_calls}
        for layer_id, nodes in calls.items():
            if layer_id != blocked_id and not any(
                _graph.reachable(node, blocked, memo) for node in nodes
            ):
                found.setdefault(layer_id, set()).add(blocked_id)
    return found
