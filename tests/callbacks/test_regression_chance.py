"""The chance level of the Huber and log-cosh losses, and `y` never ignored in silence."""

import warnings

import keras
import numpy as np
import pytest

from keras_recipes.callbacks import TrainingDoctor
from keras_recipes.callbacks._chance_level import target_chance


def _compiled(loss, outputs=1):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(outputs)])
    model.compile(optimizer="adam", loss=loss)
    return model


def _best_constant_by_keras(loss, targets):
    """The lowest loss Keras computes for a constant, per column, on a coarse
    grid and then a fine one around its best, averaged over the columns."""
    best = []
    for column in targets.T:
        low, high = column.min(), column.max()
        for _ in range(2):
            grid = np.linspace(low, high, 4001)
            # One row per candidate constant: Keras averages a row over its last axis.
            values = keras.ops.convert_to_numpy(loss.call(
                np.broadcast_to(column, (len(grid), len(column))),
                np.broadcast_to(grid[:, None], (len(grid), len(column))).astype("float32")))
            step = (high - low) / 4000
            low, high = grid[np.argmin(values)] - 2 * step, grid[np.argmin(values)] + 2 * step
        best.append(float(values.min()))
    return float(np.mean(best))


@pytest.mark.parametrize("loss", [
    "huber", keras.losses.Huber(delta=0.5), keras.losses.Huber(delta=4.0), "log_cosh",
    keras.losses.LogCosh(),
])
def test_the_chance_level_of_huber_and_log_cosh_is_the_loss_of_the_best_constant(loss):
    # Skewed targets: the best constant is neither the mean nor the median.
    rng = np.random.default_rng(0)
    targets = np.stack([rng.exponential(2.0, 300), rng.normal(-1.0, 3.0, 300)], axis=1)
    keras_loss = {"huber": keras.losses.Huber(), "log_cosh": keras.losses.LogCosh()}.get(loss, loss)
    expected = _best_constant_by_keras(keras_loss, targets.astype("float32"))
    assert target_chance(_compiled(loss, 2), targets) == pytest.approx(expected, rel=1e-4)
    # It lies below the loss of the mean and of the median.
    for constant in (targets.mean(axis=0), np.median(targets, axis=0)):
        predicted = np.broadcast_to(constant, targets.shape).astype("float32")
        assert expected <= float(keras_loss(targets.astype("float32"), predicted)) + 1e-5


def test_the_doctor_uses_y_for_huber_and_warns_where_it_cannot():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + 3.0).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # Huber has a chance level now
        _compiled("huber").fit(x, y, epochs=1, batch_size=32, verbose=0,
                               callbacks=[TrainingDoctor(y=y, stop_on=())])
    with pytest.warns(UserWarning, match=r"computes no chance level for the loss "
                      r"'mean_squared_logarithmic_error': loss changes are measured against "
                      r"the loss at the start"):
        _compiled("msle").fit(x, np.abs(y), epochs=1, batch_size=32, verbose=0,
                              callbacks=[TrainingDoctor(y=np.abs(y), stop_on=())])
    inputs = keras.Input((4,))
    two = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)])
    two.compile(optimizer="adam", loss=["mse", "huber"])
    with pytest.warns(UserWarning, match="computes no chance level for a model with several outputs"):
        two.fit(x, [y, y], epochs=1, batch_size=32, verbose=0,
                callbacks=[TrainingDoctor(y=[y, y], stop_on=())])
