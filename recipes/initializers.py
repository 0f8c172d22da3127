"""The weight initializer matched to the activation (seed 003, "Weight Initialization").

Seed 003's 6-layer experiment: small random weights make tanh activations
collapse to zero layer by layer, large ones saturate them; Xavier/Glorot keeps
tanh activations alive, He/Kaiming does the same for ReLU (whose half-zero
output halves the variance Xavier preserves). SELU self-normalizes with LeCun.
"""

import keras

from keras_recipes.recipes._validation import check_choice

#: Activation name -> Keras initializer name, with the reason in the comment.
INITIALIZER_FOR_ACTIVATION = {
    # ReLU family: half the inputs are zeroed, so the variance needs 2 / fan_in (He).
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "relu6": "he_normal",
    "elu": "he_normal",
    "gelu": "he_normal",
    "silu": "he_normal",
    "swish": "he_normal",
    "mish": "he_normal",
    # Symmetric, roughly linear around zero: Xavier/Glorot keeps the variance.
    "tanh": "glorot_normal",
    "sigmoid": "glorot_normal",
    "hard_sigmoid": "glorot_normal",
    "softmax": "glorot_normal",
    "softsign": "glorot_normal",
    "softplus": "glorot_normal",
    "linear": "glorot_normal",
    # Self-normalizing networks need LeCun normal (Klambauer et al. 2017).
    "selu": "lecun_normal",
}

#: Activations whose hidden layers should be initialized with He.
RELU_FAMILY = frozenset(
    name for name, init in INITIALIZER_FOR_ACTIVATION.items() if init == "he_normal"
)


def initializer_for(activation):
    """Returns the Keras initializer name matched to an activation.

    He normal for the ReLU family, Glorot (Xavier) normal for tanh, sigmoid,
    softmax and linear, LeCun normal for SELU. The table is
    `INITIALIZER_FOR_ACTIVATION`.

    Args:
        activation: Activation name, e.g. `"relu"` or `"tanh"`. `None` means
            `"linear"`.

    Returns:
        The initializer's name, usable as `kernel_initializer=`.

    Raises:
        ValueError: if the activation is not in the table.

    Example:

    >>> initializer_for("relu")
    'he_normal'
    """
    activation = "linear" if activation is None else activation
    check_choice("activation", activation, INITIALIZER_FOR_ACTIVATION)
    return INITIALIZER_FOR_ACTIVATION[activation]


def resolve_initializer(kernel_initializer, activation):
    """`"auto"` -> the table's choice for `activation`; anything else is checked by Keras."""
    if isinstance(kernel_initializer, str) and kernel_initializer == "auto":
        return initializer_for(activation)
    try:
        keras.initializers.get(kernel_initializer)
    except (ValueError, TypeError):
        raise ValueError(
            "Invalid value for argument `kernel_initializer`: expected \"auto\", a "
            "Keras initializer name (e.g. \"he_normal\", \"glorot_uniform\") or "
            f"instance. Received: kernel_initializer={kernel_initializer!r}"
        ) from None
    return kernel_initializer


def layer_initializer(kernel_initializer, seed_offset=0):
    """A copy of an initializer instance (or config dict) for one layer; names pass through.

    An unseeded Keras initializer draws its seed once, when it is created, so
    one instance shared by same-shaped layers gives them identical kernels.
    The copy of an unseeded initializer draws its own seed; a seeded one gets
    `seed + seed_offset`, so layers given different offsets differ and the
    model stays reproducible. An initializer seeded by a `SeedGenerator`
    (which draws a new seed per call) or one that cannot be rebuilt from its
    config is returned as it is.
    """
    if isinstance(kernel_initializer, dict):
        try:
            kernel_initializer = keras.initializers.get(kernel_initializer)
        except (TypeError, ValueError):  # `resolve_initializer` reports it
            return kernel_initializer
    if not isinstance(kernel_initializer, keras.initializers.Initializer):
        return kernel_initializer
    config = kernel_initializer.get_config()
    seed = config.get("seed")
    if isinstance(seed, dict):
        return kernel_initializer
    if isinstance(seed, int):
        config["seed"] = seed + seed_offset
    try:
        return type(kernel_initializer).from_config(config)
    except (TypeError, ValueError):  # e.g. a subclass without `get_config`
        return kernel_initializer


def with_layer_initializer(block_kwargs, seed_offset):
    """`dense_block` arguments with their `kernel_initializer` (if any) copied for one layer."""
    if "kernel_initializer" not in block_kwargs:
        return block_kwargs
    initializer = layer_initializer(block_kwargs["kernel_initializer"], seed_offset)
    return {**block_kwargs, "kernel_initializer": initializer}
