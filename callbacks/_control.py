"""A `tf.cond` (or `tf.switch_case`) whose untaken branches cost nothing at run time.

Inside a `tf.function`, TF lowers every `tf.cond` to `Switch`/`Merge` nodes:
the executor then visits every op of the untaken branch (marking it dead)
and every input of the cond (one `Switch` each) at EVERY step. For the
monitors' logging branch (hundreds of ops, taken one step in ten or a
hundred) that alone cost more than the statistics. An `If` op that is not
lowered runs its branch as a function call when taken, and is one op when
it is not (the same for `Case`). XLA compiles either way.

There is no public switch for this: TF's own `_build_cond` has a
`prevent_lowering` argument that `tf.cond` does not expose, so the attribute
it sets is set here, on the `If` op the cond just made.
"""

import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2

_LOWER = "_lower_using_switch_merge"
_TYPES = ("If", "StatelessIf", "Case", "StatelessCase")


def cond(predicate, true_fn, false_fn):
    """`tf.cond(predicate, true_fn, false_fn)`, kept as one `If` op in a graph."""
    return _unlowered(tf.cond, predicate, true_fn, false_fn)


def switch(index, branch_fns):
    """`tf.switch_case(index, branch_fns)`, kept as one `Case` op in a graph."""
    return _unlowered(tf.switch_case, index, branch_fns)


def _unlowered(make, *args):
    if tf.executing_eagerly():
        return make(*args)
    graph = tf.compat.v1.get_default_graph()
    before = len(graph.get_operations())
    outputs = make(*args)
    for op in graph.get_operations()[before:]:
        if op.type in _TYPES:
            op._set_attr(_LOWER, attr_value_pb2.AttrValue(b=False))
    return outputs
