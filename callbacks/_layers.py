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


def _short_name(weight):
    return weight.name.split("/")[-1].split(":")[0]


def dominators(model):
    """Returns `{name: {names}}`: for each leaf layer of a functional or
    Sequential model called once, the leaf layers every path from the model's
    inputs to it goes through. A layer that outputs only zeros starves the
    layers it dominates of any signal. Empty for subclassed models, layers
    called more than once and names made unique by a path.
    """
    layers = {name: layer for name, layer in leaf_layers(model) if "/" not in name}
    nodes = {}
    for name, layer in layers.items():
        if len(getattr(layer, "_inbound_nodes", ())) != 1:
            continue
        nodes[name] = layer._inbound_nodes[0]
    if not nodes:
        return {}
    found = {}
    for blocked_name, blocked in nodes.items():
        memo = {}
        for name, node in nodes.items():
            if name != blocked_name and not _reachable(node, blocked, memo):
                found.setdefault(name, set()).add(blocked_name)
    return found


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
