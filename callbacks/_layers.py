"""Which layers the monitors watch, under which names, and which weights.

A model's "leaf" layers are the layers that are not models themselves, found
by walking `model.layers` into nested models. Names are `layer.name`, made
unique with the "/"-joined path where two different layers share a name.
"""

import keras

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
    """Returns `[(name, layer), ...]` for the leaf layers of `model`, in order."""
    found = []
    _walk(model, (), found, set())
    counts = {}
    for _, layer in found:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    return [
        ("/".join(path) if counts[layer.name] > 1 else layer.name, layer)
        for path, layer in found
    ]


def _walk(model, path, found, seen):
    for layer in model.layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            _walk(layer, path + (layer.name,), found, seen)
        else:
            found.append((path + (layer.name,), layer))


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
    """The trainable weights of `layer` whose gradients the monitor reports."""
    weights = layer.trainable_weights
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


def dominators(model):
    """Returns `{name: {names}}`: for each leaf layer, the leaf layers every
    path from the model's inputs to it goes through. A layer that outputs
    only zeros starves the layers it dominates of any signal.

    A Sequential model is a chain; a functional one is read from its graph
    (layers called once in it); nested models are followed inwards, and a
    nested model's output is dominated by what dominates its inside's output.
    A subclassed model's layers get none: its call order says nothing of
    the paths between them.
    """
    names = {id(layer): name for name, layer in leaf_layers(model)}
    found = {}
    _leaf_dominators(model, frozenset(), names, found)
    return {name: set(leaves) for name, leaves in found.items() if leaves}


def _leaf_dominators(model, inherited, names, found):
    """Fills `found` for `model`'s leaves; returns the leaves dominating its output."""
    layers = list(model.layers)
    above = _direct_dominators(model, layers)
    outputs = {}  # id(layer) -> the leaves that dominate its output
    for layer in layers:
        before = set(inherited)
        for other in (above or {}).get(id(layer), ()):
            before |= outputs.get(other, set())
        if isinstance(layer, keras.Model):
            outputs[id(layer)] = before | _leaf_dominators(layer, frozenset(before), names, found)
            continue
        name = names.get(id(layer), "/")
        if "/" not in name:  # names made unique by a path are left out
            found[name] = before
        outputs[id(layer)] = before | {name}
    if above is None or not layers:
        return set(inherited)
    if isinstance(model, keras.Sequential):
        return outputs[id(layers[-1])]
    ends = [outputs.get(id(op), set(inherited)) for op in _output_operations(model)]
    return set.intersection(*ends) if ends else set(inherited)


def _direct_dominators(model, layers):
    """`{id(layer): {id(layer), ...}}` among `model`'s direct layers, or `None`
    for a subclassed model."""
    if isinstance(model, keras.Sequential):
        return {id(layer): {id(other) for other in layers[:i]} for i, layer in enumerate(layers)}
    if not getattr(model, "_inbound_nodes", None) and not _output_operations(model):
        return None
    nodes = {id(layer): layer._inbound_nodes[0] for layer in layers
             if len(getattr(layer, "_inbound_nodes", ())) == 1}
    if not nodes:
        return None
    found = {}
    for blocked_id, blocked in nodes.items():
        memo = {}
        for layer_id, node in nodes.items():
            if layer_id != blocked_id and not _reachable(node, blocked, memo):
                found.setdefault(layer_id, set()).add(blocked_id)
    return found


def _output_operations(model):
    """The operations making a functional model's outputs (none if subclassed)."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return []
    return [tensor._keras_history[0] for tensor in (outputs or [])
            if getattr(tensor, "_keras_history", None)]


def _reachable(node, blocked, memo):
    """Whether `node` is reached from an input without passing through `blocked`."""
    key = id(node)
    if key not in memo:
        memo[key] = False  # guards against cycles (none in a Keras graph)
        parents = node.parent_nodes
        if node is blocked:
            memo[key] = False
        elif not parents:
            memo[key] = True
        else:
            memo[key] = any(_reachable(parent, blocked, memo) for parent in parents)
    return memo[key]
