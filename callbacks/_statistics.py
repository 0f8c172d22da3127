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

#: Names of the statistics, in the order `stacked_statistics` packs them.
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
    """Length of one tensor's part of the vector `stacked_statistics` returns."""
    return len(STATISTIC_NAMES) + 2 + bins


def stacked_statistics(tensors, activations, bins):
    """Statistics of several activation tensors, packed in one float32 vector.

    Each tensor's part: the `STATISTIC_NAMES` values, then the histogram's
    low and high edges, then `bins` counts. Fractions that do not apply to a
    tensor's activation are NaN.

    Tracing the training step costs time per op, so what can be is done once
    for all tensors (histograms: one segment sum over (tensor, bin) pairs);
    the moments stay per-tensor reductions, accurate on big tensors.
    """
    if not tensors:
        return tf.zeros([0])
    rules = [ACTIVATION_RULES.get(activation, {}) for activation in activations]
    # Shared constants: one graph node each instead of one per use.
    axis, flat_shape = tf.constant(0), tf.constant([-1])
    flats = [tf.reshape(tf.cast(t, "float32"), flat_shape) for t in tensors]
    moments = [_moments(flat, rule.get("saturated"), axis) for flat, rule in zip(flats, rules)]
    mean, std, low, high, saturated = tf.unstack(tf.stack(moments), axis=1)
    dead = _dead_fractions(tensors, rules)
    edges = _histogram_edges(rules, low, high)
    begin, end, stride = tf.constant([0]), tf.constant([HISTOGRAM_SAMPLE]), tf.constant([1])
    firsts = [tf.strided_slice(flat, begin, end, stride) for flat in flats]
    samples, sample_ids = _segments(firsts)
    histograms = _histograms(samples, sample_ids, edges, bins, len(flats))
    head = tf.stack([mean, std, low, high, saturated, dead, edges[0], edges[1]], axis=1)
    return tf.reshape(tf.concat([head, histograms], axis=1), flat_shape)


def _moments(flat, saturation, axis):
    """mean, std, min, max and the saturated fraction (NaN without a rule)."""
    mean = tf.reduce_mean(flat, axis)
    std = tf.sqrt(tf.reduce_mean(tf.square(flat - mean), axis))
    if saturation == "sigmoid":
        ends = (flat < SIGMOID_SATURATION) | (flat > 1.0 - SIGMOID_SATURATION)
    elif saturation == "tanh":
        ends = tf.abs(flat) > TANH_SATURATION
    saturated = tf.reduce_mean(tf.cast(ends, "float32"), axis) if saturation else float("nan")
    return tf.stack([mean, std, tf.reduce_min(flat, axis), tf.reduce_max(flat, axis), saturated])


def _segments(flats):
    """Concatenates 1-D tensors; returns (values, index of each value's tensor)."""
    ids = [tf.fill(tf.shape(flat), i) for i, flat in enumerate(flats)]
    return tf.concat(flats, axis=0), tf.concat(ids, axis=0)


def _dead_fractions(tensors, rules):
    # A unit (the last axis: a Dense unit or a channel) is dead when it is
    # <= 0 for every example and position of the batch.
    watched = [i for i, rule in enumerate(rules) if rule.get("dead")]
    nan = tf.fill([len(rules)], float("nan"))
    if not watched:
        return nan
    maxima = []
    for i in watched:
        y = tf.cast(tensors[i], "float32")
        units = y.shape[-1] if y.shape[-1] is not None else tf.shape(y)[-1]
        maxima.append(tf.reduce_max(tf.reshape(y, [-1, units]), axis=0))
    maxima, unit_ids = _segments(maxima)
    dead = tf.cast(maxima <= 0.0, "float32")
    count = len(watched)
    fractions = tf.math.unsorted_segment_sum(dead, unit_ids, count) / (
        tf.math.unsorted_segment_sum(tf.ones_like(dead), unit_ids, count)
    )
    if count == len(rules):
        return fractions
    return tf.tensor_scatter_nd_update(nan, [[i] for i in watched], fractions)


def _histogram_edges(rules, low, high):
    """Per-tensor (low, high) edges: the rule's fixed range, else min and max."""
    fixed = tf.constant([rule.get("range") is not None for rule in rules])
    ranges = [rule.get("range") or (0.0, 0.0) for rule in rules]
    fixed_low = tf.constant([r[0] for r in ranges], "float32")
    fixed_high = tf.constant([r[1] for r in ranges], "float32")
    return tf.where(fixed, fixed_low, low), tf.where(fixed, fixed_high, high)


def _histograms(values, ids, edges, bins, count):
    # `tf.histogram_fixed_width` does not compile under XLA; one segment sum
    # over (tensor, bin) pairs does, for every tensor at once.
    low = tf.gather(edges[0], ids)
    width = tf.maximum(tf.gather(edges[1], ids) - low, 1e-12)
    position = tf.floor((values - low) / width * bins)
    position = tf.where(tf.math.is_finite(position), position, 0.0)
    index = tf.cast(tf.clip_by_value(position, 0.0, bins - 1.0), "int32") + ids * bins
    counts = tf.math.unsorted_segment_sum(tf.ones_like(values), index, count * bins)
    return tf.reshape(counts, [count, bins])


def unpack_statistics(vector, bins):
    """Split one packed vector into (statistics dict, edges, counts)."""
    count = len(STATISTIC_NAMES)
    stats = {name: float(vector[i]) for i, name in enumerate(STATISTIC_NAMES)}
    low, high = float(vector[count]), float(vector[count + 1])
    counts = vector[count + 2 : count + 2 + bins]
    return stats, (low, high), counts
