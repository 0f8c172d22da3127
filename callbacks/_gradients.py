"""Per-layer gradient sums of squares, as the optimizer receives them."""

import keras
import tensorflow as tf


def layer_sums(pairs, slots, count, model):
    """Sums of squares and non-finite counts of unscaled gradients, per layer.

    Args:
        pairs: `(gradient, variable)` pairs handed to `optimizer.apply`.
        slots: Maps `id(variable)` to the index of its layer.
        count: Number of layers.
        model: The model being trained (for its optimizer, strategy and
            `jit_compile`).

    Returns:
        Two float32 vectors of length `count`.
    """
    gradients = [_dense_values(g, model.jit_compile) for g, _ in pairs]
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        # The optimizer receives each replica's share; the update uses their
        # sum, so report the norm of the sum.
        gradients = context.all_reduce("sum", gradients)
    scale = _loss_scale(model.optimizer)
    sums, bad = [[] for _ in range(count)], [[] for _ in range(count)]
    for gradient, (_, variable) in zip(gradients, pairs):
        slot = slots[id(variable)]
        values = tf.cast(gradient, "float32")
        if scale is not None:
            values = values / scale
        sums[slot].append(tf.reduce_sum(tf.square(values)))
        bad[slot].append(tf.reduce_sum(tf.cast(~tf.math.is_finite(values), "float32")))
    if isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        # Overflowing scaled gradients are the loss scaler's business: it
        # skips the step and lowers the scale.
        bad = [[] for _ in range(count)]
    return _stack(sums), _stack(bad)


def _dense_values(gradient, jit_compile):
    if not isinstance(gradient, tf.IndexedSlices):
        return gradient
    if jit_compile:
        return tf.convert_to_tensor(gradient)
    # Repeated indices add up in the dense gradient: sum them before squaring.
    unique, position = tf.unique(gradient.indices)
    return tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(unique)[0])


def _loss_scale(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # As `LossScaleOptimizer.scale_loss`: before the first `apply` builds
        # the optimizer, the loss was scaled by the initial scale.
        if not optimizer.built:
            return tf.constant(optimizer.initial_scale, "float32")
        return tf.cast(tf.convert_to_tensor(optimizer.dynamic_scale), "float32")
    factor = getattr(optimizer, "loss_scale_factor", None)
    return None if factor is None else tf.constant(factor, "float32")


def _stack(parts):
    if not parts:
        return tf.zeros([0])
    return tf.stack([tf.add_n(p) if p else tf.constant(0.0) for p in parts])
