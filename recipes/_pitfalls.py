"""Known set-up pitfalls from the seeds, checked when a recipe model is built.

Each rule is a pure function of the recipe's settings that returns a warning
message or `None`; `warn_pitfalls` issues a `UserWarning` per hit.
"""

import math
import warnings

import keras

from keras_recipes.recipes.initializers import RELU_FAMILY

#: A net is "deep" for these rules from this many hidden layers: seed 003's
#: activation collapse and seed 002's vanishing gradients show over 5-6 layers.
DEEP_NET_HIDDEN_LAYERS = 5

#: A fixed-std initializer is "tiny" when std * sqrt(fan_in) is below this:
#: each layer then multiplies the activation variance by less than 0.5
#: (seed 003: N(0, 0.01^2) with tanh, std 0.49 -> 0.05 over 6 layers).
TINY_GAIN = 0.7

_FIXED_STD = (keras.initializers.RandomNormal, keras.initializers.TruncatedNormal)
_GLOROT = (keras.initializers.GlorotNormal, keras.initializers.GlorotUniform)


def _initializer_object(initializer):
    try:
        return keras.initializers.get(initializer)
    except (ValueError, TypeError):
        return None


def relu_with_glorot(activation, initializer, fan_ins, batch_norm):
    init = _initializer_object(initializer)
    if activation in RELU_FAMILY and isinstance(init, _GLOROT) and not batch_norm:
        if len(fan_ins) >= DEEP_NET_HIDDEN_LAYERS:
            return (
                f"{activation} hidden layers with a Xavier/Glorot initializer in a "
                f"{len(fan_ins)}-layer net: ReLU zeroes half its inputs, so Xavier "
                "halves the activation variance at every layer (seed 003: std 0.58 -> "
                "0.10 over 6 layers) and the deep layers stop learning. Use "
                "kernel_initializer='he_normal' (or 'auto')."
            )
    return None


def tiny_fixed_std(activation, initializer, fan_ins, batch_norm):
    init = _initializer_object(initializer)
    if not isinstance(init, _FIXED_STD) or batch_norm:
        return None
    gain = init.stddev * math.sqrt(min(fan_ins))
    if len(fan_ins) >= DEEP_NET_HIDDEN_LAYERS and gain < TINY_GAIN:
        return (
            f"A fixed stddev={init.stddev} initializer in a {len(fan_ins)}-layer net "
            f"(stddev * sqrt(fan_in) = {gain:.3g}): activations shrink toward zero "
            "layer by layer and the gradients vanish (seed 003: tanh std 0.49 -> 0.05 "
            "over 6 layers). Use kernel_initializer='auto' (He for ReLU, Xavier for "
            "tanh/sigmoid)."
        )
    return None


def deep_sigmoid_without_batch_norm(activation, initializer, fan_ins, batch_norm):
    if activation in ("sigmoid", "hard_sigmoid") and not batch_norm:
        if len(fan_ins) >= DEEP_NET_HIDDEN_LAYERS:
            return (
                f"{activation} hidden layers in a {len(fan_ins)}-layer net without "
                "batch normalization: the sigmoid's slope is at most 0.25, so the "
                "gradient shrinks at least 4x per layer (seed 002: vanishing "
                "gradients). Use activation='relu', or batch_norm=True."
            )
    return None


#: The build-time rules `mlp` checks, in order.
HIDDEN_LAYER_PITFALLS = (relu_with_glorot, tiny_fixed_std, deep_sigmoid_without_batch_norm)


def relu_output_with_cross_entropy(output_activation):
    if output_activation in ("relu", "tanh"):
        return (
            f"output_activation='{output_activation}' with a cross-entropy loss: "
            "cross-entropy needs probabilities in (0, 1), which this output cannot "
            "give (the log of a zero or negative output is -inf or NaN). Use "
            "output_activation=None (softmax or sigmoid), or 'linear' for logits."
        )
    return None


def warn_pitfalls(messages):
    for message in messages:
        if message:
            warnings.warn(message, UserWarning, stacklevel=3)
