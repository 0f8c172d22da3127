"""`activation_study`: seeds 001/003's deep-stack experiment as a recipe."""

import keras
import numpy as np
import pandas as pd

from keras_recipes.callbacks import _plots
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks.layer_statistics import forward_statistics
from keras_recipes.recipes import _validation


def activation_study(
    activation="tanh",
    initializer="glorot_normal",
    depth=6,
    width=4096,
    batch_size=16,
    histogram_bins=40,
    seed=0,
):
    """How activations spread through a deep stack at initialization.

    Builds `depth` layers `Dense(width, use_bias=False)` with the given
    activation and kernel initializer, feeds them standard normal input of
    shape `(batch_size, width)` and reports each layer's output statistics,
    as the lecture notes do to show why N(0, 0.01^2) weights make tanh
    outputs collapse to 0, N(0, 0.05^2) saturates them, Xavier keeps tanh
    alive and He keeps ReLU alive.

    Args:
        activation: Activation name or function. Defaults to `"tanh"`.
        initializer: Kernel initializer: a Keras initializer (name or
            object), or a float `s` meaning `RandomNormal(stddev=s)`.
            Defaults to `"glorot_normal"`.
        depth: Number of layers. Defaults to `6`.
        width: Units per layer (and input width). Defaults to `4096`.
        batch_size: Number of random input rows. Defaults to `16`.
        histogram_bins: Bins of each layer's histogram. Defaults to `40`.
        seed: Seed of the input and the initial weights. Defaults to `0`.

    Returns:
        A tuple `(table, figure)`: a `pandas.DataFrame` with columns `layer`
        ("layer_1"...), `activation`, `mean`, `std`, `min`, `max`,
        `saturated_fraction`, `dead_fraction`, and a matplotlib figure of the
        per-layer histograms.

    Example:

    >>> table, figure = activation_study("tanh", 0.01, width=512)
    >>> table["std"].round(2).tolist()  # doctest: +SKIP
    """
    for name, value in (("depth", depth), ("width", width), ("batch_size", batch_size)):
        _validation.check_positive_int(name, value)
    _validation.check_positive_int("histogram_bins", histogram_bins)
    if not _validation.is_seed(seed):
        raise ValueError(
            "Invalid value for argument `seed`: expected an integer from 0 to 2**32 - 1. "
            f"Received: seed={seed!r}"
        )
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(
            "Unknown activation. Expected a Keras activation name or function. "
            f"Received: activation={activation!r}"
        ) from None
    model = _deep_stack(activation, initializer, depth, width, seed)
    x = np.random.default_rng(seed).standard_normal((batch_size, width)).astype("float32")
    labels, packed = forward_statistics(model, x, None, histogram_bins)
    rows, histograms = [], []
    for (label, kind), vector in zip(labels, packed):
        stats, (low, high), counts = _statistics.unpack_statistics(vector, histogram_bins)
        rows.append([label, kind, *stats.values()])
        histograms.append([0, 0, label, np.linspace(low, high, histogram_bins + 1), counts])
    table = pd.DataFrame(rows, columns=["layer", "activation", *_statistics.STATISTIC_NAMES])
    histograms = pd.DataFrame(histograms, columns=["step", "epoch", "layer", "edges", "counts"])
    return table, _plots.activation_figure(histograms, over_time=False)


def _deep_stack(activation, initializer, depth, width, seed):
    model = keras.Sequential([keras.Input((width,))], name="activation_study")
    for index in range(depth):
        model.add(
            keras.layers.Dense(
                width,
                activation=activation,
                use_bias=False,
                kernel_initializer=_initializer(initializer, seed + index),
                name=f"layer_{index + 1}",
            )
        )
    return model


def _initializer(initializer, seed):
    if isinstance(initializer, (int, float)) and not isinstance(initializer, bool):
        _validation.check_positive("initializer", initializer)
        return keras.initializers.RandomNormal(stddev=float(initializer), seed=seed)
    if isinstance(initializer, str):
        try:
            return keras.initializers.get({"class_name": initializer, "config": {"seed": seed}})
        except (ValueError, TypeError):
            pass
    try:
        return keras.initializers.get(initializer)
    except (ValueError, TypeError):
        raise ValueError(
            "Unknown initializer. Expected a Keras initializer name or "
            f"object, or a positive float standard deviation. "
            f"Received: initializer={initializer!r}"
        ) from None
