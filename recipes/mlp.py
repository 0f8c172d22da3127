"""Multi-layer perceptrons stacked from `dense_block`, plain or compiled."""

import math

import keras

from keras_recipes.recipes import _pitfalls
from keras_recipes.recipes._validation import (
    check_choice,
    check_hidden_units,
    check_input_shape,
    check_positive_int,
    check_rate,
)
from keras_recipes.recipes.dense_block import dense_block, kernel_regularizer
from keras_recipes.recipes.initializers import (
    initializer_for,
    layer_initializer,
    resolve_initializer,
)
from keras_recipes.recipes.optimizers import make_optimizer

#: Output activations `mlp` accepts; `None` picks softmax or sigmoid.
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "tanh", "linear", "relu")

#: Where dropout goes: after every hidden layer, or once before the output.
DROPOUT_PLACEMENTS = ("all", "last")

# The learning rate of a named optimizer when `learning_rate=None`.
_DEFAULT_LEARNING_RATE = 1e-3


def _as_rates(dropout, n_layers, placement):
    if isinstance(dropout, (list, tuple)):
        if placement == "last" or len(dropout) != n_layers:
            raise ValueError(
                "Invalid value for argument `dropout`: expected one rate, or one rate "
                f"per hidden layer ({n_layers}) with dropout_placement='all'. "
                f"Received: dropout={dropout!r}, dropout_placement={placement!r}"
            )
        return [check_rate("dropout", rate) for rate in dropout]
    return [check_rate("dropout", dropout)] * n_layers


def _output_activation(output_activation, outputs):
    if output_activation is None:
        return "softmax" if outputs > 1 else "sigmoid"
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    if output_activation == "softmax" and outputs == 1:
        raise ValueError(
            "A softmax over one output is always 1.0: expected at least 2 outputs "
            "(`classes` of `classifier`) for softmax, or `output_activation=\"sigmoid\"` "
            "for one binary output. "
            "Received: output_activation='softmax', outputs=1"
        )
    return output_activation


def mlp(
    input_shape,
    hidden_units,
    outputs,
    *,
    activation="relu",
    output_activation=None,
    batch_norm=False,
    dropout=0.0,
    dropout_placement="all",
    l1=0.0,
    l2=0.0,
    kernel_initializer="auto",
    name=None,
):
    """Builds a multi-layer perceptron from `dense_block`s.

    Each hidden layer is Dense -> [BatchNormalization] -> Activation ->
    [Dropout] (seed 002's order). The initializer is matched to the
    activation unless one is given, and known pitfalls from the seeds (ReLU
    with Xavier or a tiny fixed std in a deep net, deep sigmoid nets without
    batch normalization) give a `UserWarning` saying why and what to use.
    The `l1`/`l2` penalties apply to every kernel, the output layer's too.

    Args:
        input_shape: Shape of one example, e.g. `(64,)` or `64`.
        hidden_units: Units of each hidden layer, e.g. `[64, 32]`.
        outputs: Number of output units (>= 1).
        activation: Hidden-layer activation. Defaults to `"relu"`.
        output_activation: `"softmax"`, `"sigmoid"`, `"tanh"`, `"linear"`
            or `"relu"`; `None` means softmax when `outputs > 1`, sigmoid
            when `outputs == 1`. Defaults to `None`.
        batch_norm: Batch normalization between Dense and Activation.
            Defaults to `False`.
        dropout: A rate in [0, 1), or one rate per hidden layer.
            Defaults to `0.0`.
        dropout_placement: `"all"` (after every hidden layer) or `"last"`
            (a single Dropout between the last hidden layer and the output,
            seed 002's advice). Defaults to `"all"`.
        l1: L1 penalty on the kernels. Defaults to `0.0`.
        l2: L2 penalty on the kernels. Defaults to `0.0`.
        kernel_initializer: `"auto"` or a Keras initializer for the hidden
            layers. Each layer gets its own copy of an instance; a seeded
            one gives hidden layer `i` (from 1) the seed `seed + i - 1`, so
            the layers differ and the model is reproducible.
            Defaults to `"auto"`.
        name: Model name. Defaults to `None` (`"mlp"`).

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: for a bad shape, unit list, rate, penalty, activation,
            initializer or placement.

    Example:

    >>> model = mlp((64,), [64, 32], 10, batch_norm=True, dropout=0.2, l2=1e-4)
    """
    shape = check_input_shape(input_shape)
    units = check_hidden_units(hidden_units)
    outputs = check_positive_int("outputs", outputs)
    initializer_for(activation)
    check_choice("dropout_placement", dropout_placement, DROPOUT_PLACEMENTS)
    rates = _as_rates(dropout, len(units), dropout_placement)
    out_activation = _output_activation(output_activation, outputs)
    resolve_initializer(kernel_initializer, activation)
    # The first Dense layer sees the flattened example.
    fan_ins = [math.prod(shape)] + units[:-1]
    _pitfalls.warn_pitfalls(
        rule(activation, kernel_initializer, fan_ins, batch_norm)
        for rule in _pitfalls.HIDDEN_LAYER_PITFALLS
    )
    inputs = keras.Input(shape=shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, (width, rate) in enumerate(zip(units, rates), start=1):
        x = dense_block(
            x, width, activation=activation, batch_norm=batch_norm,
            dropout=rate if dropout_placement == "all" else 0.0,
            l1=l1, l2=l2, kernel_initializer=layer_initializer(kernel_initializer, i - 1),
            name=f"hidden_{i}",
        )
    if dropout_placement == "last" and rates[-1]:
        layer = keras.layers.AlphaDropout if activation == "selu" else keras.layers.Dropout
        x = layer(rates[-1], name="dropout")(x)
    output = keras.layers.Dense(
        outputs, activation=out_activation, kernel_initializer=initializer_for(out_activation),
        kernel_regularizer=kernel_regularizer(l1, l2), name="output",
    )(x)
    return keras.Model(inputs, output, name=name or "mlp")


def classifier(
    input_shape,
    hidden_units,
    classes,
    *,
    optimizer="adam",
    learning_rate=None,
    one_hot_labels=False,
    optimizer_kwargs=None,
    **mlp_kwargs,
):
    """Builds an `mlp` compiled for classification.

    Loss: sparse categorical cross-entropy for integer labels (categorical
    with `one_hot_labels=True`) when `classes > 1`; binary cross-entropy when
    `classes == 1`. A `"linear"` output is treated as logits
    (`from_logits=True`); a `"relu"` or `"tanh"` output warns. Metric:
    accuracy. Optimizer from `make_optimizer`.

    Args:
        input_shape: Shape of one example.
        hidden_units: Units of each hidden layer.
        classes: Number of classes; `1` for binary with a sigmoid output.
        optimizer: A `make_optimizer` name or a Keras optimizer instance
            (configured by its own constructor). Defaults to `"adam"`.
        learning_rate: Learning rate (or schedule) of a named optimizer;
            `None` means `1e-3`. Defaults to `None`.
        one_hot_labels: Labels are one-hot rows instead of integers.
            Defaults to `False`.
        optimizer_kwargs: Extra arguments for `make_optimizer` (e.g.
            `{"clipnorm": 1.0}`), for a named optimizer. Defaults to `None`.
        **mlp_kwargs: Passed to `mlp` (activation, batch_norm, dropout, ...).

    Returns:
        A compiled `keras.Model`.

    Raises:
        ValueError: for a bad `mlp` argument or optimizer name, or an
            optimizer instance given with `learning_rate` or
            `optimizer_kwargs` (they would be ignored).

    Example:

    >>> model = classifier((64,), [64, 32], 10, dropout=0.2)
    """
    optimizer = _optimizer(optimizer, learning_rate, optimizer_kwargs)
    model = mlp(input_shape, hidden_units, classes, **mlp_kwargs)
    output_activation = model.get_layer("output").activation.__name__
    _pitfalls.warn_pitfalls([_pitfalls.relu_output_with_cross_entropy(output_activation)])
    from_logits = output_activation == "linear"
    if classes == 1:
        loss = keras.losses.BinaryCrossentropy(from_logits=from_logits)
        metric = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5)
    elif one_hot_labels:
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits)
        metric = keras.metrics.CategoricalAccuracy(name="accuracy")
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[metric],
    )
    return model


def regressor(
    input_shape,
    hidden_units,
    outputs=1,
    *,
    optimizer="adam",
    learning_rate=None,
    loss="mse",
    optimizer_kwargs=None,
    **mlp_kwargs,
):
    """Builds an `mlp` with a linear output, compiled for regression.

    Args:
        input_shape: Shape of one example.
        hidden_units: Units of each hidden layer.
        outputs: Number of regression targets. Defaults to `1`.
        optimizer: A `make_optimizer` name or a Keras optimizer instance
            (configured by its own constructor). Defaults to `"adam"`.
        learning_rate: Learning rate (or schedule) of a named optimizer;
            `None` means `1e-3`. Defaults to `None`.
        loss: Any Keras regression loss. Defaults to `"mse"`.
        optimizer_kwargs: Extra arguments for `make_optimizer`, for a named
            optimizer. Defaults to `None`.
        **mlp_kwargs: Passed to `mlp`; `output_activation` defaults to
            `"linear"`.

    Returns:
        A compiled `keras.Model` with a mean-absolute-error metric.

    Raises:
        ValueError: for a bad `mlp` argument or optimizer name, or an
            optimizer instance given with `learning_rate` or
            `optimizer_kwargs` (they would be ignored).

    Example:

    >>> model = regressor((8,), [32, 16], l2=1e-4)
    """
    mlp_kwargs.setdefault("output_activation", "linear")
    optimizer = _optimizer(optimizer, learning_rate, optimizer_kwargs)
    model = mlp(input_shape, hidden_units, outputs, **mlp_kwargs)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
    )
    return model


def _optimizer(optimizer, learning_rate, optimizer_kwargs):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None or optimizer_kwargs is not None:
            # An instance is already configured: these would be silently ignored.
            raise ValueError(
                "`learning_rate` and `optimizer_kwargs` configure a named optimizer; "
                "expected them unset with an optimizer instance (pass them to its "
                f"constructor instead). Received: optimizer={optimizer!r}, "
                f"learning_rate={learning_rate!r}, optimizer_kwargs={optimizer_kwargs!r}"
            )
        return optimizer
    learning_rate = _DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate
    return make_optimizer(optimizer, learning_rate, **(optimizer_kwargs or {}))
