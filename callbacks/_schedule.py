"""Which branch of the monitors' one `Case` op a training step takes.

Branches: `NOTHING`; `COPY` (copy the weights: a gradient record is next,
whose update norm is `weights - copy`); `RECORD` (record, and copy the
weights too if a gradient record is next). Steps are counted from 0 in a
fit; gradients are recorded every `every_g` steps, activations every
`every_a` (either may be `None`).
"""

import numpy as np
import tensorflow as tf

NOTHING, COPY, RECORD = 0, 1, 2

#: Above this period, the branch is computed with a few ops, not looked up.
MAX_TABLE = 4096


def branch_table(every_g, every_a):
    """The branch of each step of one period (`lcm` of the everies), or
    `None` when the period is longer than `MAX_TABLE`."""
    everies = [every for every in (every_g, every_a) if every is not None]
    period = int(np.lcm.reduce(everies))
    if period > MAX_TABLE:
        return None
    table = np.full(period, NOTHING, "int32")
    if every_g is not None:
        table[every_g - 1 :: every_g] = COPY
    for every in everies:
        table[::every] = RECORD
    return table


def computed_branch(step, every_g, every_a):
    """`branch_table(...)[step % period]`, as ops on the int64 `step`."""
    records = tf.constant(False)
    for every in (every_g, every_a):
        if every is not None:
            records = records | tf.equal(step % every, 0)
    branch = tf.where(records, RECORD, NOTHING)
    if every_g is not None:
        copies = tf.equal(step % every_g, every_g - 1)
        branch = tf.where(~records & copies, COPY, branch)
    return branch
