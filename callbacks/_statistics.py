"""Per-layer activation statistics, computed in TensorFlow from one tensor.

The same function serves the monitors (inside the compiled training step) and
`layer_statistics` (eagerly, on one forward pass), so both report identical
numbers. Everything here is XLA-compilable: no `tf.summary`, no
`tf.histogram_fixed_width`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.callbacks import _graph
from keras_recipes.callbacks._activation_kinds import FLAT_TAILS, dead_band, elu_name, tail_distance

#: Activation kinds and the rules that apply to them. `dead` counts units that
#: are <= 0 for every example of the batch (`True`), or in the flat band
#: `(low, high)` of their activation's tail; `saturated` is the predicate on
#: outputs that counts as a flat end of the function; `range` fixes the
#: histogram's edges (None: the batch's own min and max). An ELU with its own
#: alpha ("elu(alpha=0.5)") has its own band (`activation_rule`).
ACTIVATION_RULES = {
    "relu": {"dead": True, "saturated": None, "range": None},
    "relu6": {"dead": True, "saturated": None, "range": None},
    "sigmoid": {"dead": False, "saturated": "sigmoid", "range": (0.0, 1.0)},
    "hard_sigmoid": {"dead": False, "saturated": "sigmoid", "range": (0.0, 1.0)},
    "tanh": {"dead": False, "saturated": "tanh", "range": (-1.0, 1.0)},
    "softmax": {"dead": False, "saturated": "softmax", "range": (0.0, 1.0)},
    # Dead on their flat negative tail (`_activation_kinds.FLAT_TAILS`).
    **{name: {"dead": dead_band(name), "saturated": None, "range": None} for name in FLAT_TAILS},
}

#: Saturation thresholds on the outputs (|pre-activation| beyond about 4.6
#: for sigmoid and 2.6 for tanh). A softmax is saturated on an example whose
#: largest output is above `1 - SIGMOID_SATURATION`: every other output is
#: then below 0.01 and every entry of its Jacobian (`p_i (d_ij - p_j)`) at
#: most 0.01, the sigmoid's slope at its bar, so almost no gradient passes.
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
#: The layers that are an activation and nothing else.
STANDALONE_ACTIVATIONS = tuple(layer_class for layer_class, _ in _ACTIVATION_LAYERS)


#: Layers whose output keeps their input's layout (element-wise maps,
#: normalizations along any axis, noise, element-wise merges): a unit of
#: their output is a unit of what feeds them.
LAYOUT_PRESERVING_LAYERS = (
    keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU,
    keras.layers.PReLU, keras.layers.Softmax, keras.layers.Identity,
    keras.layers.BatchNormalization, keras.layers.LayerNormalization,
    keras.layers.GroupNormalization, keras.layers.UnitNormalization,
    keras.layers.Dropout, keras.layers.GaussianNoise, keras.layers.GaussianDropout,
    keras.layers.AlphaDropout, keras.layers.ActivityRegularization,
    keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply,
    keras.layers.Average, keras.layers.Maximum, keras.layers.Minimum,
)


def activation_name(layer):
    """The name of `layer`'s activation, or `None` if it has none.

    An `ELU` layer with an alpha other than 1 is "elu(alpha=0.5)" (its flat
    tail moves with alpha). A `TimeDistributed` layer has its inner layer's; a `Bidirectional` one
    its forward layer's when it concatenates the two directions (summed,
    multiplied or averaged outputs leave the activation's range).
    """
    if isinstance(layer, keras.layers.TimeDistributed):
        return activation_name(layer.layer)
    if isinstance(layer, keras.layers.Bidirectional):
        concat = layer.merge_mode == "concat"
        return activation_name(layer.forward_layer) if concat else None
    for layer_class, name in _ACTIVATION_LAYERS:
        if isinstance(layer, layer_class):
            if name == "relu" and (layer.negative_slope or layer.threshold):
                return "leaky_relu"
            return elu_name(layer.alpha) if name == "elu" else name
    function = getattr(layer, "activation", None)
    if not callable(function):
        return None
    name = getattr(function, "__name__", type(function).__name__)
    return "linear" if name in ("linear", "identity") else name


def unit_axis(layer):
    """The axis of `layer`'s output that holds its units (channels).

    1 for a layer with `data_format="channels_first"` (2 inside
    `TimeDistributed`, which adds the time axis). A layer that keeps its
    input's layout (`LAYOUT_PRESERVING_LAYERS`: a standalone `ReLU` after a
    channels-first convolution, through `BatchNormalization(axis=1)` or an
    `Add`) has the axis of the layers feeding it, when Keras recorded them
    (functional and Sequential models) and they all agree. Else -1.
    """
    return _unit_axis(layer, {})


def _unit_axis(layer, memo):
    if id(layer) in memo:
        return memo[id(layer)]
    memo[id(layer)] = -1  # guards against cycles (none in a Keras graph)
    if isinstance(layer, keras.layers.TimeDistributed):
        inner = _unit_axis(layer.layer, memo)
        axis = inner if inner < 0 else inner + 1
    elif getattr(layer, "data_format", None) is not None:
        axis = 1 if layer.data_format == "channels_first" else -1
    elif isinstance(layer, LAYOUT_PRESERVING_LAYERS):
        axes = {_unit_axis(feeder, memo) for feeder in _graph.inbound_layers(layer)}
        axis = axes.pop() if len(axes) == 1 else -1
    else:
        axis = -1
    memo[id(layer)] = axis
    return axis


def activation_rule(name):
    """The rules of activation `name` (`ACTIVATION_RULES`; an ELU with its own
    alpha gets its own dead band), or `{}`."""
    if name in ACTIVATION_RULES:
        return ACTIVATION_RULES[name]
    band = dead_band(name)
    return {} if band is None else {"dead": band, "saturated": None, "range": None}


def statistics_size(bins):
    """Length of one tensor's part of the vector `stacked_statistics` returns."""
    return len(STATISTIC_NAMES) + 2 + bins


def stacked_statistics(tensors, activations, bins, unit_axes=None):
    """Statistics of several activation tensors, packed in one float32 vector.

    Each tensor's part: mean, VARIANCE (`unpack_statistics` takes the square
    root), min, max, saturated fraction, dead fraction, the histogram's low
    and high edges, then `bins` counts. Fractions that do not apply to a
    tensor's activation are NaN. `unit_axes` gives each tensor's axis of
    units for the dead fraction (`unit_axis`; `None`: the last axis of all).

    Tracing the training step costs about 0.3 ms per op on CPU (and graph
    optimization more), so this makes as few ops as it can: the moments are
    per-tensor reductions (accurate on big tensors); dead units, histograms
    and the final packing are done once for all tensors; constants are
    shared.
    """
    if not tensors:
        return tf.zeros([0])
    count = len(tensors)
    rules = [activation_rule(activation) for activation in activations]
    const = _Constants()
    tensors = [_float32(t) for t in tensors]  # one cast each, for every use below
    flats = [tf.reshape(t, const([-1])) for t in tensors]
    heads, lows, highs = [], [], []
    for flat, rule in zip(flats, rules):
        mean = tf.reduce_mean(flat, const(0))
        variance = tf.reduce_mean(tf.square(flat - mean), const(0))
        low, high = tf.reduce_min(flat, const(0)), tf.reduce_max(flat, const(0))
        heads.append([mean, variance, low, high, _saturated(flat, mean, rule.get("saturated"), const)])
        edges = rule.get("range")
        lows.append(const(float(edges[0])) if edges else low)
        highs.append(const(float(edges[1])) if edges else high)
    axes = unit_axes or [-1] * count
    dead = tf.unstack(_dead_fractions(tensors, rules, axes, const))
    head = tf.stack([
        value
        for i in range(count)
        for value in (*heads[i], dead[i], lows[i], highs[i])
    ])
    begin, end = const([0]), const([HISTOGRAM_SAMPLE])
    samples = [tf.strided_slice(flat, begin, end, const([1])) for flat in flats]
    histograms = _histograms(samples, tf.stack(lows), tf.stack(highs), bins, const)
    head = tf.reshape(head, const([count, 8]))
    return tf.reshape(tf.concat([head, histograms], axis=const(1)), const([-1]))


class _Constants:
    """Makes each constant once per graph (one op each instead of one per use)."""

    def __init__(self):
        self._made = {}

    def __call__(self, value, dtype=None):
        if isinstance(value, np.ndarray):
            key = (value.dtype.str, value.shape, value.tobytes(), dtype)
        else:
            key = (type(value).__name__, repr(value), dtype)
        if key not in self._made:
            self._made[key] = tf.constant(value, dtype)
        return self._made[key]


def _float32(tensor):
    return tensor if tensor.dtype == tf.float32 else tf.cast(tensor, "float32")


def _saturated(flat, mean, saturation, const):
    """The fraction of `flat` (whose mean is `mean`) at a flat end of its
    function (NaN without one); for a softmax, of its examples."""
    if saturation == "softmax":
        # One output per example at most is above 0.99, and the outputs of an
        # example sum to 1: the number of examples is the sum of `flat`, on
        # whatever axis the softmax ran.
        top = tf.reduce_mean(tf.cast(flat > const(1.0 - SIGMOID_SATURATION), "float32"), const(0))
        return top / mean
    if saturation == "sigmoid":
        ends = (flat < const(SIGMOID_SATURATION)) | (flat > const(1.0 - SIGMOID_SATURATION))
    elif saturation == "tanh":
        ends = tf.abs(flat) > const(TANH_SATURATION)
    else:
        return const(float("nan"))
    return tf.reduce_mean(tf.cast(ends, "float32"), const(0))


def _dead_fractions(tensors, rules, axes, const):
    # A unit (a Dense unit or a channel: the last axis, or axis 1 when
    # channels come first) is dead when it is <= 0 for every example and
    # position of the batch. One segment sum for all tensors; tensors without
    # the rule get 0 / 0 = NaN.
    count = len(rules)
    watched = [i for i, rule in enumerate(rules) if rule.get("dead")]
    if not watched:
        return const([float("nan")] * count)
    maxima, ids = [], []
    for i in watched:
        maxima.append(_unit_maxima(tail_distance(tensors[i], rules[i]["dead"], const), axes[i], const))
        units = maxima[-1].shape[0]
        if units is None:
            ids.append(tf.fill(tf.shape(maxima[-1]), const(i)))
        else:
            ids.append(np.full(units, i, "int32"))
    if all(isinstance(part, np.ndarray) for part in ids):
        unit_ids = np.concatenate(ids)
        sizes = const(np.bincount(unit_ids, minlength=count).astype("float32"))
        ids = const(unit_ids)  # one constant for every unit
    else:
        ids = tf.concat(
            [const(part) if isinstance(part, np.ndarray) else part for part in ids], const(0)
        )
        sizes = None
    dead = tf.cast(tf.concat(maxima, const(0)) <= const(0.0), "float32")
    if sizes is None:
        sizes = tf.math.unsorted_segment_sum(tf.ones_like(dead), ids, count)
    return tf.math.unsorted_segment_sum(dead, ids, count) / sizes


def _unit_maxima(y, axis, const):
    """The maximum of each unit of `y` (units on `axis`) over everything else."""
    rank = y.shape.rank
    if axis != -1 and rank is not None and rank > 2:
        return tf.reduce_max(y, const([a for a in range(rank) if a != axis]))
    units = y.shape[-1]
    shape = const([-1, units]) if units is not None else tf.stack([-1, tf.shape(y)[-1]])
    return tf.reduce_max(tf.reshape(y, shape), const(0))


def _histograms(samples, lows, highs, bins, const):
    # `tf.histogram_fixed_width` does not compile under XLA; one segment sum
    # over (tensor, bin) pairs does, for every tensor at once.
    count = len(samples)
    values = tf.concat(samples, axis=const(0))
    ids = tf.concat([tf.fill(tf.shape(s), const(i)) for i, s in enumerate(samples)], axis=const(0))
    scales = const(float(bins)) / tf.maximum(highs - lows, const(1e-12))
    position = (values - tf.gather(lows, ids)) * tf.gather(scales, ids)
    position = tf.where(tf.math.is_finite(position), position, const(0.0))
    # Truncation is the floor here: the position is clipped to [0, bins - 1] first.
    index = tf.cast(tf.clip_by_value(position, const(0.0), const(bins - 1.0)), "int32")
    index = index + ids * const(bins)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(values), index, count * bins)
    return tf.reshape(counts, const([count, bins]))


def unpack_statistics(vector, bins):
    """Split one packed vector into (statistics dict, edges, counts)."""
    count = len(STATISTIC_NAMES)
    stats = {name: float(vector[i]) for i, name in enumerate(STATISTIC_NAMES)}
    stats["std"] = float(np.sqrt(max(stats["std"], 0.0)))  # packed as the variance
    low, high = float(vector[count]), float(vector[count + 1])
    counts = vector[count + 2 : count + 2 + bins]
    return stats, (low, high), counts
