"""The host's side of the packed records (pure numpy)."""

import numpy as np

from keras_recipes.callbacks._packing import Layout


def _layout(**kwargs):
    return Layout(["a", "b"], [("a", "relu")], 4, True, True, ring_rows=3, **kwargs)


def _gradient_part(step, sums, weights, updates, ring):
    return np.concatenate([[step], sums, weights, updates, np.ravel(ring)]).astype("float32")


def test_norms_are_the_roots_of_twice_the_half_sums_and_the_peak_is_over_the_ring():
    layout = _layout()
    ring = [[2.0, 0.5], [8.0, 0.5], [0.5, 0.5]]  # half sums: norms 2, 4, 1 for "a"
    part = _gradient_part(30, [2.0, 0.5], [50.0, 12.5], [0.02, 0.005], ring)
    step, columns = layout.gradient_snapshot(layout.join({"gradients": part, "activations": []}))
    assert step == 30
    np.testing.assert_allclose(columns["grad_norm"], [2.0, 1.0])
    np.testing.assert_allclose(columns["grad_norm_max"], [4.0, 1.0])
    np.testing.assert_allclose(columns["weight_norm"], [10.0, 5.0])
    np.testing.assert_allclose(columns["update_norm"], [0.2, 0.1])
    np.testing.assert_array_equal(columns["non_finite"], [0, 0])


def test_non_finite_steps_are_counted_and_a_nan_step_makes_the_peak_infinite():
    ring = [[np.nan, 0.5], [np.inf, 0.5], [1.0, np.inf]]
    part = _gradient_part(3, [np.nan, 0.5], [1.0, 1.0], [0.0, 0.0], ring)
    _, columns = _layout().gradient_snapshot(part)
    np.testing.assert_array_equal(columns["non_finite"], [2, 1])
    assert np.isinf(columns["grad_norm_max"]).all()


def test_under_loss_scaling_overflowed_steps_are_left_out():
    ring = [[np.inf, 0.5], [2.0, 0.5], [0.5, np.nan]]
    part = _gradient_part(3, [2.0, 0.5], [1.0, 1.0], [0.0, 0.0], ring)
    _, columns = _layout(loss_scaled=True).gradient_snapshot(part)
    np.testing.assert_array_equal(columns["non_finite"], [0, 0])
    np.testing.assert_allclose(columns["grad_norm_max"], [2.0, 1.0])


def test_a_part_not_written_yet_reads_as_its_initial_part():
    layout = _layout()
    # The step, then 6 statistics, the 2 histogram edges and 4 counts.
    activations = np.arange(1 + 6 + 2 + 4, dtype="float32")
    activations[0] = 7
    vector = layout.join({"gradients": np.zeros(0, "float32"), "activations": activations})
    step, _ = layout.gradient_snapshot(vector)
    assert step == -1
    step, packed = layout.activation_snapshot(vector)
    assert step == 7 and len(packed) == 1
    np.testing.assert_array_equal(packed[0], np.arange(1, 13))
