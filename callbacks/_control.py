"""A `tf.cond` whose untaken branch costs nothing at run time.

Inside a `tf.function`, TF lowers every `tf.cond` to `Switch`/`Merge` nodes:
the executor then visits every op of the untaken branch (marking it dead)
and every input of the cond (one `Switch` each) at EVERY step. For the
monitors' logging branch (hundreds of ops, taken one step in ten or a
hundred) that alone cost more than the statistics. An `If` op that is not
lowered runs its branch as a function call when taken, and is one op when
it is not. XLA compiles the `If` op either way.

There is no public switch for this: TF's own `_build_cond` has a
`prevent_lowering` argument that `tf.cond` does not expose, so the attribute
it sets is set here, on the `If` op the cond just made.
"""

import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2

_LOWER = "_lower_using_switch_merge"
_IF_TYPES = ("If", "StatelessIf")


def cond(predicate, true_fn, false_fn):
    """`tf.cond(predicate, true_fn, false_fn)`, kept as one `If` op in a graph."""
    if tf.executing_eagerly():
        return tf.cond(predicate, true_fn, false_fn)
    graph = tf.compat.v1.get_default_graph()
    before = len(graph.get_operations())
    outputs = tf.cond(predicate, true_fn, false_fn)
    for op in graph.get_operations()[before:]:
        if op.type in _IF_TYPES:
            op._set_attr(_LOWER, attr_value_pb2.AttrValue(b=False))
    return outputs
