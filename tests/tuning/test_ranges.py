import math

import keras_tuner
import numpy as np
import pytest

from keras_recipes.tuning import _ranges
from keras_recipes.tuning import _trial_rules


def test_regularization_is_narrowed_less_than_the_learning_rate():
    assert _ranges.hyperparameter_kind("l2") == "regularization"
    assert _ranges.hyperparameter_kind("weight_decay") == "regularization"
    assert _ranges.hyperparameter_kind("learning_rate") == "other"
    assert _ranges.margin_for("l2", log=True) == 1.0
    assert _ranges.margin_for("learning_rate", log=True) == 0.5
    assert _ranges.margin_for("units", log=False) == 0.1


def test_narrowed_range_is_the_span_of_the_top_values_plus_the_margin_in_decades():
    low, high = _ranges.narrowed_range(1e-6, 1e-1, [1e-4, 1e-3], log=True, margin=0.5)
    assert math.log10(low) == pytest.approx(-4.5)
    assert math.log10(high) == pytest.approx(-2.5)


def test_narrowed_range_stays_inside_unless_an_edge_is_expanded():
    low, high = _ranges.narrowed_range(1e-6, 1e-1, [9e-2], log=True, margin=0.5)
    assert high == pytest.approx(1e-1)
    _, expanded = _ranges.narrowed_range(1e-6, 1e-1, [9e-2], log=True, margin=0.5, expand={"max"})
    assert math.log10(expanded) == pytest.approx(-0.5)


def test_narrowed_linear_range_uses_a_fraction_of_the_width():
    low, high = _ranges.narrowed_range(0.0, 0.5, [0.2, 0.3], log=False, margin=0.1)
    assert (low, high) == pytest.approx((0.15, 0.35))


def test_edge_of_reports_the_best_value_or_a_crowded_edge():
    assert _ranges.edge_of(0.97, [0.97, 0.5, 0.4]) == "max"
    assert _ranges.edge_of(0.03, [0.03, 0.5]) == "min"
    assert _ranges.edge_of(0.5, [0.5, 0.05, 0.02]) == "min"  # most of the top-k
    assert _ranges.edge_of(0.5, [0.5, 0.4, 0.95]) is None


def test_median_rule_needs_enough_peers_and_respects_the_direction():
    assert _trial_rules.worse_than_median(0.1, [0.8, 0.9, 0.85], "max")
    assert not _trial_rules.worse_than_median(0.95, [0.8, 0.9, 0.85], "max")
    assert not _trial_rules.worse_than_median(0.1, [0.8, 0.9], "max")
    assert _trial_rules.worse_than_median(2.0, [0.5, 0.6, 0.7], "min")


def test_grace_epochs_and_best_so_far():
    assert _trial_rules.grace_epochs(3) == 2
    assert _trial_rules.grace_epochs(20) == 5
    curve = {0: 0.2, 1: 0.6, 2: 0.4}
    assert _trial_rules.best_so_far(curve, 2, "max") == 0.6
    assert _trial_rules.best_so_far(curve, 0, "min") == 0.2


def test_divergence_is_any_non_finite_loss_or_objective():
    assert _trial_rules.is_diverged([1.0, float("nan")], [0.5, 0.5])
    assert _trial_rules.is_diverged([1.0, 0.9], [0.5, float("inf")])
    assert not _trial_rules.is_diverged([1.0, 0.9], [0.5, 0.6])


def _on_grid(value, origin, step):
    return abs((value - origin) / step - round((value - origin) / step)) < 1e-9


def test_narrowing_a_stepped_int_keeps_the_bounds_on_its_grid():
    hps = keras_tuner.HyperParameters()
    hps.Int("units", 8, 64, step=8)
    units = hps.space[0]
    # The margin is 0.1 * 56 = 5.6: [24 - 5.6, 32 + 5.6] widens to the grid.
    _ranges.narrow_hyperparameter(units, [32, 24])
    assert (units.min_value, units.max_value) == (16, 40)
    assert sorted(units.values) == [16, 24, 32, 40]
    _ranges.narrow_hyperparameter(units, [24])  # round 3: still the first grid
    assert (units.min_value, units.max_value) == (16, 32)


def test_narrowing_a_stepped_float_keeps_the_bounds_on_its_grid():
    hps = keras_tuner.HyperParameters()
    hps.Float("momentum", 0.0, 0.5, step=0.1)
    momentum = hps.space[0]
    _ranges.narrow_hyperparameter(momentum, [0.2, 0.3])  # [0.15, 0.35] before snapping
    assert (momentum.min_value, momentum.max_value) == (0.1, 0.4)
    assert all(_on_grid(momentum.prob_to_value(u), 0.0, 0.1) for u in np.linspace(0, 0.999, 50))


def test_snapped_range_keeps_a_grid_point_and_stays_inside():
    # At an edge, the margin would leave the range: the edge grid point stays.
    assert _ranges.snapped_to_grid(6.0, 9.0, origin=8, step=8, log=False, lowest=8,
                                   highest=60) == (8.0, 16.0)
    # 60 is not on the grid 8, 16, ..., 56: the top grid point is 56.
    assert _ranges.snapped_to_grid(50.0, 60.0, origin=8, step=8, log=False, lowest=8,
                                   highest=60) == (48.0, 56.0)
    # A log grid multiplies: 2, 4, 8, ..., 64.
    assert _ranges.snapped_to_grid(5.0, 20.0, origin=2, step=2, log=True, lowest=2,
                                   highest=64) == (4.0, 32.0)
    assert _ranges.snapped_to_grid(16.0, 16.0, origin=8, step=8, log=False, lowest=8,
                                   highest=64) == (16.0, 16.0)


def test_a_regularization_strength_at_zero_is_a_limit_not_a_warning():
    hps = keras_tuner.HyperParameters()
    hps.Float("dropout", 0.0, 0.5)
    hps.Float("shift", 0.0, 0.5)
    dropout, shift = hps.space
    assert _ranges.boundary_warning(dropout, [0.0, 0.01, 0.3], 1) is None
    assert _ranges.boundary_warning(shift, [0.0, 0.01, 0.3], 1)["edge"] == "min"
    assert _ranges.boundary_warning(dropout, [0.5, 0.49, 0.1], 1)["edge"] == "max"


@pytest.mark.parametrize("low, high, values", [(8, 32, [8, 32]), (8, 64, [9, 60]), (1, 5, [4, 5])])
def test_a_log_integer_range_stays_inside_its_bounds(low, high, values):
    # 10**log10(8) is 7.999...: floored, it gave [7, 33] for Int(8, 32).
    hps = keras_tuner.HyperParameters()
    hps.Int("units", low, high, sampling="log")
    hp = hps.space[0]
    _ranges.narrow_hyperparameter(hp, values)
    assert (hp.min_value, hp.max_value) == (low, high)


def test_an_expanded_rate_never_reaches_one():
    hps = keras_tuner.HyperParameters()
    hps.Float("dropout", 0.01, 0.5, sampling="log")
    hps.Float("learning_rate", 1e-4, 0.5, sampling="log")
    dropout, learning_rate = hps.space
    _ranges.narrow_hyperparameter(dropout, [0.5, 0.45], expand={"max"})
    assert dropout.max_value == pytest.approx(0.75)  # halfway to 1 (it was 5.0)
    _ranges.narrow_hyperparameter(dropout, [0.75], expand={"max"})
    assert dropout.max_value == pytest.approx(0.875)
    _ranges.narrow_hyperparameter(learning_rate, [0.5], expand={"max"})
    assert learning_rate.max_value == pytest.approx(0.5 * 10**0.5)  # not a rate below 1
