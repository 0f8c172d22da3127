"""`layer_statistics`: activation statistics from one inference forward pass."""

import keras
import pandas as pd

from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks._patching import Patches

#: Histogram bins used by `layer_statistics`' internal passes.
DEFAULT_BINS = 40

_COLUMNS = ["layer", "activation", *_statistics.STATISTIC_NAMES]


def layer_statistics(model, x, layers=None):
    """Activation statistics of every layer on one inference-mode forward pass.

    Inspects a model before (or between) training runs: the same statistics
    `ActivationStats` records inside `fit` (mean, std, min, max, saturated and
    dead fractions), computed by the same code, from `model(x, training=False)`.
    The model is left unchanged.

    Args:
        model: A Keras model.
        x: One batch of inputs, as the model accepts them.
        layers: Names of the layers to report, or `None` for every layer with
            an activation. Defaults to `None`.

    Returns:
        A `pandas.DataFrame`, one row per layer call, with columns `layer`,
        `activation`, `mean`, `std`, `min`, `max`, `saturated_fraction`,
        `dead_fraction`.

    Raises:
        ValueError: If a name in `layers` is not a layer with an activation.

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu")])
    >>> layer_statistics(model, np.random.randn(32, 4))[["layer", "std"]]  # doctest: +SKIP
    """
    labels, packed = forward_statistics(model, x, _layers.check_names(layers), DEFAULT_BINS)
    rows = []
    for (label, activation), vector in zip(labels, packed):
        stats, _, _ = _statistics.unpack_statistics(vector, DEFAULT_BINS)
        rows.append([label, activation, *stats.values()])
    return pd.DataFrame(rows, columns=_COLUMNS)


def forward_statistics(model, x, layers, bins):
    """Runs `model(x, training=False)` once and packs each watched call's
    statistics. Returns `([(label, activation), ...], [numpy vectors])`."""
    watched = _layers.activation_layers(model, layers)
    captures, patches = [], Patches()

    def capture(index):
        def wrapper(original, *args, **kwargs):
            outputs = original(*args, **kwargs)
            captures.append((index, outputs))
            return outputs

        return wrapper

    for index, (_, layer, _) in enumerate(watched):
        patches.wrap(layer, "call", capture(index))
    try:
        model(x, training=False)
    finally:
        patches.undo()
    labels = _layers.call_labels(watched, [index for index, _ in captures])
    tensors = [_first_tensor(outputs) for _, outputs in captures]
    kinds = [activation for _, activation in labels]
    axes = [_statistics.unit_axis(watched[index][1]) for index, _ in captures]
    vector = _statistics.stacked_statistics(tensors, kinds, bins, axes).numpy()
    size = _statistics.statistics_size(bins)
    return labels, [vector[i * size : (i + 1) * size] for i in range(len(labels))]


def _first_tensor(outputs):
    return keras.tree.flatten(outputs)[0]
