import warnings

import keras
import numpy as np
import pytest

from keras_recipes.tuning import find_learning_rate
from keras_recipes.tuning._learning_rate_sweep import smooth, steepest_index, valley_index


def _model(optimizer):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def test_sweep_stops_on_divergence_and_suggests_a_working_rate(digits):
    x, _, y, _ = digits
    model = _model(keras.optimizers.SGD(0.01))
    result = find_learning_rate(model, x, y, min_lr=1e-4, max_lr=1e3, steps=80)
    frame = result.to_dataframe()
    assert list(frame.columns) == ["learning_rate", "loss", "smoothed_loss"]
    assert len(frame) < 80  # stopped early: the loss blew up
    assert frame["smoothed_loss"].iloc[-1] > 4 * frame["smoothed_loss"].iloc[:-1].min()
    suggestion = result.suggestion
    assert suggestion == result.suggestions["valley"]
    assert 1e-3 < suggestion < 10.0
    assert 1e-3 < result.suggestions["steepest"] < 10.0
    # The suggestion trains much faster than the bottom of the range.
    losses = {}
    for learning_rate in (1e-4, suggestion):
        fresh = _model(keras.optimizers.SGD(learning_rate))
        losses[learning_rate] = fresh.fit(x, y, epochs=2, verbose=0).history["loss"][-1]
    assert losses[suggestion] < 0.5 * losses[1e-4]
    assert result.plot().axes[0].get_xscale() == "log"


def test_sweep_records_each_batch_loss_not_the_running_mean(digits):
    x, _, y, _ = digits
    model = _model(keras.optimizers.SGD(0.01))
    # With learning rates of 1e-12 the weights do not move, so each recorded
    # loss must be that batch's own evaluated loss.
    expected = [model.evaluate(x[i:i + 16], y[i:i + 16], verbose=0) for i in (0, 16, 32)]
    result = find_learning_rate(model, x, y, min_lr=1e-12, max_lr=2e-12, steps=3,
                                batch_size=16, seed=None)
    np.testing.assert_allclose(result.to_dataframe()["loss"], expected, rtol=1e-5)
    assert abs(expected[2] - np.mean(expected)) > 1e-3  # a running mean would differ


def test_sweep_restores_weights_and_optimizer_state(digits):
    x, _, y, _ = digits
    model = _model(keras.optimizers.Adam(1e-3))
    model.fit(x[:320], y[:320], epochs=1, batch_size=32, verbose=0)
    weights = [v.numpy().copy() for v in model.variables]
    optimizer_state = [v.numpy().copy() for v in model.optimizer.variables]
    assert int(model.optimizer.iterations.numpy()) == 10
    find_learning_rate(model, x, y, min_lr=1e-5, max_lr=10.0, steps=30)
    for before, variable in zip(weights, model.variables):
        np.testing.assert_array_equal(before, variable.numpy())
    for before, variable in zip(optimizer_state, model.optimizer.variables):
        np.testing.assert_array_equal(before, variable.numpy())
    assert int(model.optimizer.iterations.numpy()) == 10
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    # Training goes on from where it was.
    model.fit(x[:320], y[:320], epochs=1, batch_size=32, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 20


def test_sweep_restores_batch_norm_statistics(digits):
    x, _, y, _ = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16),
                              keras.layers.BatchNormalization(), keras.layers.Dropout(0.2),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    moving_mean = model.layers[1].moving_mean.numpy().copy()
    result = find_learning_rate(model, x, y, min_lr=1e-3, max_lr=1.0, steps=12)
    assert len(result.to_dataframe()) == 12
    np.testing.assert_array_equal(model.layers[1].moving_mean.numpy(), moving_mean)


def test_sweep_rejects_schedule():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)
    model = _model(keras.optimizers.SGD(schedule))
    with pytest.raises(ValueError, match="LearningRateSchedule.*Received: learning_rate=ExponentialDecay"):
        find_learning_rate(model, np.zeros((8, 64)), np.zeros(8))


def test_sweep_rejects_bad_range():
    with pytest.raises(ValueError, match="Received: min_lr=1.0, max_lr=0.1"):
        find_learning_rate(_model("sgd"), np.zeros((8, 64)), np.zeros(8), min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="Received: steps=0"):
        find_learning_rate(_model("sgd"), np.zeros((8, 64)), np.zeros(8), steps=0)


def test_suggestion_rules_on_a_known_curve():
    learning_rates = np.logspace(-5, 0, 51)
    log_lr = np.log10(learning_rates)
    # Flat, then a steep drop centred at 1e-3, then a blow-up after 1e-1.
    losses = 2.0 - 1.5 / (1 + np.exp(-4 * (log_lr + 3))) + np.where(log_lr > -1, 10 * (log_lr + 1) ** 2, 0)
    assert 10 ** log_lr[steepest_index(losses, learning_rates)] == pytest.approx(1e-3, rel=0.3)
    valley = valley_index(losses)
    assert 1e-4 < learning_rates[valley] < 1e-1
    np.testing.assert_allclose(smooth(np.ones(5), 0.98), np.ones(5))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_lr": float("inf")}, r"`max_lr`: expected a finite number > 0\. Received: max_lr=inf"),
        ({"min_lr": float("nan")}, r"`min_lr`: expected a number > 0\. Received: min_lr=nan"),
        ({"seed": "a"}, r"`seed`: expected an integer or None\. Received: seed='a'"),
        ({"seed": 1.5}, r"Received: seed=1\.5"),
    ],
)
def test_sweep_rejects_non_finite_rates_and_bad_seeds(kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_learning_rate(_model("sgd"), np.zeros((8, 64)), np.zeros(8), steps=5, **kwargs)


def test_sweep_warns_nothing_under_numpy_2(digits):
    # Reading the rate with `keras.ops.convert_to_numpy` made NumPy 2 warn.
    x, _, y, _ = digits
    model = _model(keras.optimizers.SGD(0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        find_learning_rate(model, x, y, min_lr=1e-4, max_lr=1e-1, steps=5)
