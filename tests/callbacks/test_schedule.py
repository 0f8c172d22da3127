"""What each training step does (pure, plus the op version)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.callbacks import _schedule
from keras_recipes.callbacks._schedule import ACTIVATIONS as A
from keras_recipes.callbacks._schedule import COPY as C
from keras_recipes.callbacks._schedule import GRADIENTS as G


def test_gradients_every_4_copy_the_weights_the_step_before():
    assert _schedule.action_table(4, None).tolist() == [G, 0, 0, C]
    assert _schedule.action_sets(4, None) == [0, C, G]
    assert _schedule.branch_table(4, None).tolist() == [2, 0, 0, 1]


def test_every_step_records_and_copies_in_one_branch():
    assert _schedule.action_table(1, None).tolist() == [C | G]
    assert _schedule.action_sets(1, None) == [C | G]


def test_both_monitors_share_one_period():
    table = _schedule.action_table(3, 2)
    assert table.tolist() == [G | A, 0, C | A, G, A, C]
    sets = _schedule.action_sets(3, 2)
    assert sets == [0, C, G, A, C | A, G | A]
    assert [sets[i] for i in _schedule.branch_table(3, 2)] == table.tolist()


def test_the_defaults_take_four_branches_and_trace_the_statistics_once():
    # GradientMonitor every 10, ActivationStats every 100.
    sets = _schedule.action_sets(10, 100)
    assert sets == [0, C, G, G | A]
    assert sum(1 for s in sets if s & A) == 1


def test_activations_alone_never_copy():
    assert _schedule.action_table(None, 3).tolist() == [A, 0, 0]


@pytest.mark.parametrize("every_g, every_a", [(4, None), (3, 2), (None, 5), (7, 100), (1, 3)])
def test_computed_branch_equals_the_table(every_g, every_a):
    table = _schedule.branch_table(every_g, every_a)
    steps = np.arange(3 * len(table))
    computed = _schedule.computed_branch(tf.constant(steps, "int64"), every_g, every_a)
    assert computed.numpy().tolist() == table[steps % len(table)].tolist()


@pytest.mark.parametrize("every_g, every_a", [(4093, 4091), (1, 4099), (2, 4099), (4099, None)])
def test_long_periods_are_computed_and_every_set_has_a_branch(every_g, every_a):
    assert _schedule.branch_table(every_g, every_a) is None
    sets = _schedule.action_sets(every_g, every_a)
    steps = np.arange(3 * (every_g or 3))
    if every_a is not None:  # steps where the activations are recorded
        steps = np.concatenate([steps, every_a * np.arange(1, 4), [every_a * (every_g or 1)]])
    computed = _schedule.computed_branch(tf.constant(steps, "int64"), every_g, every_a).numpy()
    for step, branch in zip(steps.tolist(), computed.tolist()):
        expected = 0
        if every_g is not None:
            expected |= C if step % every_g == every_g - 1 else 0
            expected |= G if step % every_g == 0 else 0
        if every_a is not None and step % every_a == 0:
            expected |= A
        assert sets[branch] == expected, (step, sets, branch)
