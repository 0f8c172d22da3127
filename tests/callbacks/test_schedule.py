"""Which branch each training step takes (pure, plus the op version)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.callbacks import _schedule
from keras_recipes.callbacks._schedule import COPY, NOTHING, RECORD


def test_gradients_every_4_copy_the_weights_the_step_before():
    assert _schedule.branch_table(4, None).tolist() == [RECORD, NOTHING, NOTHING, COPY]


def test_every_step_records_and_copies_in_the_record_branch():
    assert _schedule.branch_table(1, None).tolist() == [RECORD]


def test_both_monitors_share_one_period():
    table = _schedule.branch_table(3, 2)
    assert table.tolist() == [RECORD, NOTHING, RECORD, RECORD, RECORD, COPY]


def test_activations_alone_never_copy():
    assert _schedule.branch_table(None, 3).tolist() == [RECORD, NOTHING, NOTHING]


@pytest.mark.parametrize("every_g, every_a", [(4, None), (3, 2), (None, 5), (7, 100)])
def test_computed_branch_equals_the_table(every_g, every_a):
    table = _schedule.branch_table(every_g, every_a)
    steps = np.arange(3 * len(table))
    computed = _schedule.computed_branch(tf.constant(steps, "int64"), every_g, every_a)
    assert computed.numpy().tolist() == table[steps % len(table)].tolist()


def test_long_periods_are_computed():
    assert _schedule.branch_table(4093, 4091) is None
