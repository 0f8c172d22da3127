"""Per-layer activation statistics, computed in TensorFlow from one tensor.

The same function serves the monitors (inside the compiled training step) and
`layer_statistics` (eagerly, on one forward pass), so both report identical
numbers. Everything here is XLA-compilable: no `tf.summary`, no
`tf.histogram_fixed_width`.
"""

import keras
import tensorflow as tf

#: Activation kinds and the rules that apply to them. `dead` counts units that
#: are <= 0 for every example of the batch; `saturated` is the predicate on
#: outputs that counts as a flat end of the function; `range` fixes the
#: histogram's edges (None: the batch's own min and max).
ACTIVATION_RULES = {
    "relu": {"dead": True, "saturated": None, "range": None},
    "relu6": {"dead": True, "saturated": None, "range": None},
    "sigmoid": {"dead": False, "saturated": "sigmoid", "range": (0.0, 1.0)},
    "hard_sigmoid": {"dead": False, "saturated": "sigmoid", "range": (0.0, 1.0)},
    "tanh": {"dead": False, "saturated": "tanh", "range": (-1.0, 1.0)},
    "softmax": {"dead": False, "saturated": None, "range": (0.0, 1.0)},
}

#: Saturation thresholds on the outputs (|pre-activation| beyond about 4.6
#: for sigmoid and 2.6 for tanh).
SIGMOID_SATURATION = 0.01
TANH_SATURATION = 0.99

#: Names of the statistics, in the order `tensor_statistics` packs them.
STATISTIC_NAMES = ("mean", "std", "min", "max", "saturated_fraction", "dead_fraction")

#: Histograms look at the first this-many values of a tensor (the first
#: examples of the batch): enough for the shape, bounded in cost.
HISTOGRAM_SAMPLE = 65536

#: Layer classes that are activations themselves, and their kind.
_ACTIVATION_LAYERS = (
    (keras.layers.ReLU, "relu"),
    (keras.layers.LeakyReLU, "leaky_relu"),
    (keras.layers.ELU, "elu"),
    (keras.layers.PReLU, "prelu"),
    (keras.layers.Softmax, "softmax"),
)


def activation_name(layer):
    """The name of `layer`'s activation, or `None` if it has none."""
    for layer_class, name in _ACTIVATION_LAYERS:
        if isinstance(layer, layer_class):
            if name == "relu" and (layer.negative_slope or layer.threshold):
                return "leaky_relu"
            return name
    function = getattr(layer, "activation", None)
    if not callable(function):
        return None
    name = getattr(function, "__name__", type(function).__name__)
    return "linear" if name in ("linear", "identity") else name


def statistics_size(bins):
    """Length of the vector `tensor_statistics` returns."""
    return len(STATISTIC_NAMES) + 2 + bins


def tensor_statistics(y, activation, bins):
    """Statistics of one activation tensor, packed in a float32 vector.

    Layout: the `STATISTIC_NAMES` values, then the histogram's low and high
    edges, then `bins` counts. Fractions that do not apply to `activation`
    are NaN.
    """
    y = tf.cast(y, "float32")
    rules = ACTIVATION_RULES.get(activation, {})
    flat = tf.reshape(y, [-1])
    low, high = tf.reduce_min(flat), tf.reduce_max(flat)
    mean = tf.reduce_mean(flat)
    std = tf.sqrt(tf.reduce_mean(tf.square(flat - mean)))
    nan = tf.constant(float("nan"))
    saturated = _saturated_fraction(flat, rules.get("saturated"))
    saturated = nan if saturated is None else saturated
    dead = _dead_fraction(y) if rules.get("dead") else nan
    edges = rules.get("range") or (low, high)
    histogram = _histogram(flat[:HISTOGRAM_SAMPLE], edges[0], edges[1], bins)
    head = tf.stack([mean, std, low, high, saturated, dead])
    edges = tf.cast(tf.stack(edges), "float32")
    return tf.concat([head, edges, histogram], axis=0)


def stacked_statistics(tensors, activations, bins):
    """`tensor_statistics` of several tensors, concatenated in one vector."""
    parts = [tensor_statistics(t, a, bins) for t, a in zip(tensors, activations)]
    return tf.concat(parts, axis=0) if parts else tf.zeros([0])


def _saturated_fraction(flat, kind):
    if kind == "sigmoid":
        flat_ends = (flat < SIGMOID_SATURATION) | (flat > 1.0 - SIGMOID_SATURATION)
    elif kind == "tanh":
        flat_ends = tf.abs(flat) > TANH_SATURATION
    else:
        return None
    return tf.reduce_mean(tf.cast(flat_ends, "float32"))


def _dead_fraction(y):
    # A unit (the last axis: a Dense unit or a channel) is dead when it is
    # <= 0 for every example and position of the batch.
    units = tf.reshape(y, [-1, tf.shape(y)[-1]])
    dead = tf.reduce_max(units, axis=0) <= 0.0
    return tf.reduce_mean(tf.cast(dead, "float32"))


def _histogram(values, low, high, bins):
    # `tf.histogram_fixed_width` does not compile under XLA; a segment sum does.
    low = tf.cast(low, "float32")
    width = tf.maximum(tf.cast(high, "float32") - low, 1e-12)
    position = tf.floor((values - low) / width * bins)
    position = tf.where(tf.math.is_finite(position), position, 0.0)
    index = tf.cast(tf.clip_by_value(position, 0.0, bins - 1.0), "int32")
    return tf.math.unsorted_segment_sum(tf.ones_like(values), index, bins)


def unpack_statistics(vector, bins):
    """Split one packed vector into (statistics dict, edges, counts)."""
    count = len(STATISTIC_NAMES)
    stats = {name: float(vector[i]) for i, name in enumerate(STATISTIC_NAMES)}
    low, high = float(vector[count]), float(vector[count + 1])
    counts = vector[count + 2 : count + 2 + bins]
    return stats, (low, high), counts
