"""Which compiled loss each output of a model is trained with (pure readers).

`compile` takes one loss for all outputs, a list (one per output, in the
order of `model.outputs`), or a dict keyed as the outputs are: by the keys
of a dict of outputs, else by the output layers' names. The readers here
pair each output with its loss as Keras does, and with the layer making it
(inside a nested model if that makes it), so that the rules can check one
output at a time.
"""

import types

import numpy as np

from keras_recipes.callbacks import _graph


def output_losses(model):
    """`[(key, layer, loss), ...]`: each output of a compiled model with the
    layer making it and its loss, in the order of `model.outputs`.

    `key` is how `compile` and `fit` name the output (a dict key, a layer
    name; `None` for a model with one output), `layer` the operation making
    it, `loss` what `compile` was given for it (`None` if no loss). A model
    whose outputs cannot be read (subclassed, not built) gives `[]`.
    """
    operations = _graph.output_making_layers(model)
    loss = getattr(model, "loss", None)
    if not operations or loss is None:
        return []
    if len(operations) == 1 and not isinstance(loss, (dict, list, tuple)):
        return [(None, operations[0], loss)]
    keys = _output_keys(model, operations)
    if isinstance(loss, dict):
        losses = [loss.get(key) for key in keys]
    elif isinstance(loss, (list, tuple)):
        if len(loss) != len(operations):
            return []  # nested losses: not one per output
        losses = list(loss)
    else:  # one loss for every output
        losses = [loss] * len(operations)
    return list(zip(keys, operations, losses))


def as_compiled(loss):
    """A stand-in for a model compiled with `loss` alone: the readers of
    `tuning._model_parts` (loss name, cross-entropy) read only `model.loss`."""
    return types.SimpleNamespace(loss=loss)


def output_targets(y, keys):
    """`y` split per output: `{key: array}` for the outputs whose targets
    can be read (numbers, one row per example), else fewer or none.

    One output takes `y` whole; several take a dict keyed as the outputs are,
    or a list or tuple in the order of the outputs.
    """
    if y is None:
        return {}
    if len(keys) == 1 and not isinstance(y, dict) and keys[0] is None:
        parts = {None: y}
    elif len(keys) == 1 and not isinstance(y, (dict, list, tuple)):
        parts = {keys[0]: y}
    elif isinstance(y, dict):
        parts = {key: y[key] for key in keys if key in y}
    elif isinstance(y, (list, tuple)) and len(y) == len(keys):
        parts = dict(zip(keys, y))
    else:
        return {}
    arrays = {key: _numbers(part) for key, part in parts.items()}
    return {key: array for key, array in arrays.items() if array is not None}


def _numbers(part):
    try:
        array = np.asarray(part)
    except (TypeError, ValueError):  # ragged nested lists
        return None
    if array.dtype.kind not in "biuf" or array.ndim == 0 or array.size == 0:
        return None
    return array


def _output_keys(model, operations):
    """The names `compile` and `fit` know the outputs by, in order: the keys
    of a dict of outputs (Keras orders `model.outputs` by sorted key), else
    the output layers' names."""
    try:
        structure = model.output
    except (AttributeError, ValueError):
        structure = None
    if isinstance(structure, dict) and len(structure) == len(operations):
        return sorted(structure)
    names = getattr(model, "output_names", None)
    if names and len(names) == len(operations):
        return list(names)
    return [operation.name for operation in operations]
