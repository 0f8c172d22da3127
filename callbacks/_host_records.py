"""The gradient records the host makes between batches.

When each step is its own batch (`steps_per_execution == 1`, Keras's
default) and gradients are recorded less often than every step, the host
does the gradient record's other work between batches, where it adds no
op to trace (`host_gradients`): after the batch before a record it reads
the weights (and keeps the values: no shadow variables), after the
record's batch it reads the ring and takes the weights' and the update's
sums with a few eager ops. The `Case` then only has the activation
branches (none at all for `GradientMonitor` alone), which cuts what the
monitors add to the first step of a fit (each branch function costs about
20 ms to trace, optimize and instantiate on CPU, besides its ops). With
several steps per batch the host cannot act between steps, under a
distribution strategy the weights live on several devices, and a model
first built inside the step has no weights to read before it: there the
record stays in the graph.
"""

import numpy as np
import tensorflow as tf


class HostRecords:
    """`StepRecorder`'s host side (it holds `_gradient_layers`, `_slots`,
    `_ring` and `_ring_rows`)."""

    def host_read_weights(self):
        """Keeps the weights' current values: the next step's update is the
        weights after it minus these. Reading a variable does not copy it;
        its next update copies it instead (TF's copy-on-write), so no
        shadow variables are needed."""
        self._before = [_read_float32(weight.value) for weight in self._host_weights()]

    def host_gradient_part(self, step):
        """The gradient part of the packed statistics (`Layout`) for `step`,
        the step just run: its half sums, the weights' (before it) and the
        update's, then the ring."""
        count, every = len(self._gradient_layers), self._ring_rows
        ring = _read_float32(self._ring).numpy().astype("float64").reshape(every, count)
        weights, before = self._host_weights(), self._before
        self._before = None  # frees the kept values
        sums = [np.full(count, np.nan)] * 2
        if weights and before is not None:
            halves = []
            for weight, old in zip(weights, before):
                update = tf.raw_ops.Sub(x=_read_float32(weight.value), y=old)
                halves += [tf.raw_ops.L2Loss(t=old), tf.raw_ops.L2Loss(t=update)]
            pairs = tf.raw_ops.Pack(values=halves).numpy().astype("float64").reshape(-1, 2)
            slots = [self._slots[id(w)] for w in weights]
            sums = [np.bincount(slots, pairs[:, i], minlength=count) for i in (0, 1)]
        return np.concatenate([[step], ring[step % every], sums[0], sums[1], ring.reshape(-1)])

    def _host_weights(self):
        return [w for _, group in (self._gradient_layers or []) for w in group]


def _read_float32(variable):
    """The value of a `tf.Variable` (not distributed), as float32, read
    eagerly through `tf.raw_ops`: between batches, where the `tf.*` wrappers
    cost several times more per op than the op itself (15-60 us against
    8-16 us here)."""
    value = tf.raw_ops.ReadVariableOp(resource=variable.handle, dtype=variable.dtype)
    if variable.dtype != tf.float32:
        value = tf.raw_ops.Cast(x=value, DstT=tf.float32)
    return value
