import math

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
