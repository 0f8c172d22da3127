"""Per-layer gradient sums of squares, as the optimizer receives them."""

import keras
import tensorflow as tf


def layer_half_sums(pairs, slots, count, model, scale):
    """Half sums of squares of the unscaled gradients, per layer.

    Half, because `tf.nn.l2_loss` (`sum(g ** 2) / 2`) is ONE op per gradient:
    this runs at every step, where each op costs a few microseconds on CPU.
    NaN or Inf in a gradient makes its layer's entry NaN or Inf.

    Args:
        pairs: `(gradient, variable)` pairs handed to `optimizer.apply`.
        slots: Maps `id(variable)` to the index of its layer.
        count: Number of layers.
        model: The model being trained (for its strategy and `jit_compile`).
        scale: The loss scale the gradients carry (see `loss_scale`), or
            `None`.

    Returns:
        A float32 vector of length `count`.
    """
    gradients = [g for g, _ in pairs]
    if model.jit_compile:
        gradients = [tf.convert_to_tensor(g) for g in gradients]
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        # The optimizer receives each replica's share; the update uses their
        # sum, so report the norm of the sum. Sparse gradients go in as they
        # are (the reduce gathers every replica's rows, as the optimizer's
        # does) and their repeated rows are summed after it: summed before,
        # each replica would send a different number of rows.
        gradients = context.all_reduce("sum", gradients)
    halves = [tf.nn.l2_loss(tf.cast(_dense_values(g), "float32")) for g in gradients]
    sums = _per_layer(halves, [slots[id(variable)] for _, variable in pairs], count)
    return sums if scale is None else sums / tf.square(scale)


def _per_layer(scalars, slots_of, count):
    parts = [[] for _ in range(count)]
    for scalar, slot in zip(scalars, slots_of):
        parts[slot].append(scalar)
    if not parts:
        return tf.zeros([0])
    return tf.stack([tf.add_n(p) if p else tf.constant(0.0) for p in parts])


def _dense_values(gradient):
    """The rows of `gradient`'s dense value that it touches (all if dense)."""
    if not isinstance(gradient, tf.IndexedSlices):
        return gradient
    # Repeated indices add up in the dense gradient: sum them before squaring.
    unique, position = tf.unique(gradient.indices)
    return tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(unique)[0])


def loss_scale(optimizer):
    """The factor the optimizer's loss scaling multiplied the loss by, as a
    float32 tensor, or `None` without loss scaling."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # As `LossScaleOptimizer.scale_loss`: before the first `apply` builds
        # the optimizer, the loss was scaled by the initial scale.
        if not optimizer.built:
            return tf.constant(optimizer.initial_scale, "float32")
        return tf.cast(tf.convert_to_tensor(optimizer.dynamic_scale), "float32")
    factor = getattr(optimizer, "loss_scale_factor", None)
    return None if factor is None else tf.constant(factor, "float32")


def copy_weights(weights, shadows):
    """Assigns each weight's value to its shadow (`shadows[id(weight)]`)."""
    for weight in weights:
        shadows[id(weight)].assign(tf.cast(weight.value, "float32"))


def weight_half_sums(weights, shadows, slots, count):
    """Per-layer half sums of squares (`tf.nn.l2_loss`) of the weights before
    this step (the shadows) and of this step's update (weights now minus
    shadows)."""
    before_sums, update_sums = [], []
    for weight in weights:
        before = shadows[id(weight)].value()
        before_sums.append(tf.nn.l2_loss(before))
        update_sums.append(tf.nn.l2_loss(tf.cast(weight.value, "float32") - before))
    slots_of = [slots[id(weight)] for weight in weights]
    return _per_layer(before_sums, slots_of, count), _per_layer(update_sums, slots_of, count)
