"""What the monitors do at each training step: a set of actions.

Actions (bits): `COPY` (copy the weights: a gradient record is next, whose
update norm is `weights - copy`), `GRADIENTS` (record the gradient
snapshot), `ACTIVATIONS` (record the activation statistics). Steps are
counted from 0 in a fit; gradients are recorded every `every_g` steps,
activations every `every_a` (either may be `None`).

The monitors' one `Case` op has one branch per action set that can occur
(`action_sets`), so no branch holds a nested cond, and each step takes the
branch `branch_table(...)[step % period]` (or `computed_branch`).
"""

import itertools

import numpy as np
import tensorflow as tf

COPY, GRADIENTS, ACTIVATIONS = 1, 2, 4

#: Above this period, the branch is computed with a few ops, not looked up.
MAX_TABLE = 4096


def action_table(every_g, every_a):
    """The action set of each step of one period (`lcm` of the everies), or
    `None` when the period is longer than `MAX_TABLE`."""
    everies = [every for every in (every_g, every_a) if every is not None]
    period = int(np.lcm.reduce(everies))
    if period > MAX_TABLE:
        return None
    table = np.zeros(period, "int32")
    if every_g is not None:
        table[every_g - 1 :: every_g] |= COPY
        table[::every_g] |= GRADIENTS
    if every_a is not None:
        table[::every_a] |= ACTIVATIONS
    return table


def action_sets(every_g, every_a):
    """The action sets that can occur, sorted: one `Case` branch each."""
    table = action_table(every_g, every_a)
    if table is not None:
        return sorted(set(table.tolist()))
    # A long period: every combination of what each monitor can do at a step
    # (possibly a branch too many, never one too few).
    gradient_parts = {None: [0], 1: [COPY | GRADIENTS], 2: [GRADIENTS, COPY]}.get(
        every_g, [0, COPY, GRADIENTS]
    )
    activation_parts = {None: [0], 1: [ACTIVATIONS]}.get(every_a, [0, ACTIVATIONS])
    return sorted({g | a for g, a in itertools.product(gradient_parts, activation_parts)})


def branch_table(every_g, every_a):
    """The `Case` branch (an index into `action_sets`) of each step of one
    period, or `None` when the period is longer than `MAX_TABLE`."""
    table = action_table(every_g, every_a)
    if table is None:
        return None
    index = {actions: i for i, actions in enumerate(action_sets(every_g, every_a))}
    return np.array([index[actions] for actions in table.tolist()], "int32")


def computed_branch(step, every_g, every_a):
    """`branch_table(...)[step % period]`, as ops on the int64 `step`."""
    actions = tf.zeros_like(step, "int32")
    if every_g is not None:
        phase = step % every_g
        actions += tf.where(tf.equal(phase, every_g - 1), COPY, 0)
        actions += tf.where(tf.equal(phase, 0), GRADIENTS, 0)
    if every_a is not None:
        actions += tf.where(tf.equal(step % every_a, 0), ACTIVATIONS, 0)
    index = np.zeros(COPY + GRADIENTS + ACTIVATIONS + 1, "int32")
    for i, actions_set in enumerate(action_sets(every_g, every_a)):
        index[actions_set] = i
    return tf.gather(tf.constant(index), actions)
