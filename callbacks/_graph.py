"""Reading the graph Keras records of a functional model's layer calls.

Every call of a layer on symbolic inputs (building a functional model, or a
Sequential one) leaves a `Node` in `layer._inbound_nodes`, whose
`parent_nodes` are the calls that made its inputs. Keras has no public route
to these nodes; this module is the one place that reads them. Layers called
only inside another layer's `call` (the sublayers of a custom layer) and the
layers of a subclassed model have no nodes: their wiring is unknown.
"""

import keras


def output_operations(model):
    """The operations making a functional model's outputs (none if subclassed)."""
    return [tensor._keras_history[0] for tensor in _outputs(model)]


def output_making_layers(model):
    """The layers making a functional model's outputs, in order, looking
    inside nested models (a nested model's output is made by one of its
    layers); none if subclassed."""
    layers = []
    for tensor in _outputs(model):
        operation, _, index = tensor._keras_history
        while isinstance(operation, keras.Model):
            inner = _outputs(operation)
            if index >= len(inner):
                break
            operation, _, index = inner[index]._keras_history
        layers.append(operation)
    return layers


def call_nodes(model):
    """`{id(layer): [node, ...]}`: the calls of each layer in `model`'s own
    graph (found from its outputs, so calls of a shared layer in other
    models are left out), or `None` for a subclassed model."""
    stack = []
    for tensor in _outputs(model):
        operation, index = tensor._keras_history[0], tensor._keras_history[1]
        stack.append(operation._inbound_nodes[index])
    found, seen = {}, set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.setdefault(id(node.operation), []).append(node)
        stack.extend(node.parent_nodes)
    return found or None


def _outputs(model):
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return []
    return [tensor for tensor in (outputs or []) if getattr(tensor, "_keras_history", None)]


def reachable(node, blocked, memo):
    """Whether `node` is reached from an input without passing through a
    node whose id is in `blocked`."""
    key = id(node)
    if key not in memo:
        memo[key] = False  # guards against cycles (none in a Keras graph)
        parents = node.parent_nodes
        if key in blocked:
            memo[key] = False
        elif not parents:
            memo[key] = True
        else:
            memo[key] = any(reachable(parent, blocked, memo) for parent in parents)
    return memo[key]


def inbound_layers(layer):
    """The layers whose outputs feed any recorded call of `layer` (a nested
    functional model stands for the layers making its outputs); `[]` when
    no call of it is recorded."""
    found = []
    for node in getattr(layer, "_inbound_nodes", ()):
        for parent in node.parent_nodes:
            operation = parent.operation
            inner = output_operations(operation) if isinstance(operation, keras.Model) else []
            found.extend(inner or [operation])
    return found
