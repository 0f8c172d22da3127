"""Dense -> BatchNormalization -> Activation -> Dropout (seed 002)."""

import keras

from keras_recipes.recipes._validation import (
    check_non_negative,
    check_positive_int,
    check_rate,
)
from keras_recipes.recipes.initializers import (
    initializer_for,
    layer_initializer,
    resolve_initializer,
)


def kernel_regularizer(l1=0.0, l2=0.0):
    """Returns L1, L2, L1L2 or `None` for the given penalty factors.

    Args:
        l1: L1 factor (>= 0). Defaults to `0.0`.
        l2: L2 factor (>= 0). Defaults to `0.0`.

    Returns:
        A `keras.regularizers.Regularizer`, or `None` when both are zero.

    Example:

    >>> kernel_regularizer(l2=1e-4)  # doctest: +ELLIPSIS
    <keras...L2 object at ...>
    """
    l1 = check_non_negative("l1", l1)
    l2 = check_non_negative("l2", l2)
    if l1 and l2:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return keras.regularizers.L1(l1)
    if l2:
        return keras.regularizers.L2(l2)
    return None


def dense_block(
    x,
    units,
    *,
    activation="relu",
    batch_norm=False,
    dropout=0.0,
    l1=0.0,
    l2=0.0,
    kernel_initializer="auto",
    name=None,
):
    """Applies Dense -> BatchNormalization -> Activation -> Dropout to `x`.

    The order follows seed 002: batch normalization sits between the linear
    layer and the nonlinearity, so the Dense layer drops its bias (the BN
    shift replaces it); the activation is its own `Activation` layer so
    monitors see its output; dropout comes last. A SELU block uses
    `AlphaDropout` instead of `Dropout` to keep self-normalization.

    Args:
        x: Input tensor (Keras functional API).
        units: Number of units (>= 1).
        activation: Activation name from `INITIALIZER_FOR_ACTIVATION`.
            Defaults to `"relu"`.
        batch_norm: Insert `BatchNormalization` before the activation.
            Defaults to `False`.
        dropout: Dropout rate in [0, 1); 0 adds no layer. Defaults to `0.0`.
        l1: L1 penalty on the kernel. Defaults to `0.0`.
        l2: L2 penalty on the kernel. Defaults to `0.0`.
        kernel_initializer: `"auto"` (matched to the activation by
            `initializer_for`) or any Keras initializer. An instance is
            copied, so blocks built with one unseeded instance get different
            weights (a seeded one gives its seed to each copy).
            Defaults to `"auto"`.
        name: Prefix of the layer names (`{name}_dense`, `{name}_bn`,
            `{name}_{activation}`, `{name}_dropout`); `None` lets Keras name
            them. Defaults to `None`.

    Returns:
        The output tensor of the block.

    Raises:
        ValueError: for a bad `units`, `activation`, `dropout`, `l1`, `l2`
            or `kernel_initializer`.

    Example:

    >>> inputs = keras.Input((8,))
    >>> outputs = dense_block(inputs, 16, batch_norm=True, dropout=0.2, name="b1")
    """
    units = check_positive_int("units", units)
    # A copy: blocks given one unseeded initializer instance must not share its seed.
    initializer = layer_initializer(resolve_initializer(kernel_initializer, activation))
    initializer_for(activation)  # validates the name against the table
    dropout = check_rate("dropout", dropout)
    layer_name = (lambda suffix: f"{name}_{suffix}") if name else (lambda suffix: None)
    x = keras.layers.Dense(
        units,
        use_bias=not batch_norm,
        kernel_initializer=initializer,
        kernel_regularizer=kernel_regularizer(l1, l2),
        name=layer_name("dense"),
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=layer_name("bn"))(x)
    x = keras.layers.Activation(activation, name=layer_name(activation))(x)
    if dropout:
        dropout_layer = keras.layers.AlphaDropout if activation == "selu" else keras.layers.Dropout
        x = dropout_layer(dropout, name=layer_name("dropout"))(x)
    return x
