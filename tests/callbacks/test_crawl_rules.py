"""A learning rate that crawls on a slow but steady curve (study 5's O08)."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from keras_recipes.callbacks import TrainingDoctor
from keras_recipes.callbacks._crawl_rules import steps_per_epoch, update_travel_per_epoch
from keras_recipes.callbacks._diagnosis import diagnose
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds

# Wine MLP under plain SGD at 1e-4, 30 epochs of 9 steps (measured): a
# straight line from above chance (ln 3 prior: 1.086).
O08 = pd.DataFrame({
    "loss": np.linspace(1.6268, 1.4878, 30),
    "val_loss": np.linspace(1.5344, 1.4060, 30)})


def _steps(ratio, per_epoch, epochs=30, every=2):
    """A gradient table of two layers whose weights move `ratio` of their
    norm at every step, `per_epoch` steps an epoch, logged every `every`."""
    rows = []
    for step in range(0, epochs * per_epoch, every):
        for layer, norm in (("dense", 7.7), ("dense_1", 2.4)):
            rows.append({"step": step, "epoch": step // per_epoch, "layer": layer, "grad_norm": 1.5,
                         "grad_norm_max": 1.5, "weight_norm": norm, "update_ratio": ratio,
                         "non_finite": 0})
    return pd.DataFrame(rows)


def test_the_weights_path_per_epoch_tells_a_crawl_from_a_slow_start():
    t = resolve_thresholds()
    crawl = _steps(3.2e-5, per_epoch=9)  # O08's own steps
    assert steps_per_epoch(crawl) == pytest.approx(9.0, abs=0.1)
    (found,) = diagnose(O08, crawl, None, t, chance_loss=1.086, initial_loss=1.6268)
    assert found.kind == "learning_rate_too_low" and found.evidence["curve"] == ["slow_progress"]
    assert found.evidence["update_travel_per_epoch"] == pytest.approx(2.9e-4, rel=0.02)
    # The steps of plain SGD at 0.05 on a digits CNN with dropout (1.2e-3 of
    # the weights, 10 steps an epoch, measured): a slow start, no crawl.
    slow_start = _steps(1.2e-3, per_epoch=10)
    assert update_travel_per_epoch(slow_start) == pytest.approx(1.2e-2)
    (found,) = diagnose(O08, slow_start, None, t, chance_loss=1.086, initial_loss=1.6268)
    assert (found.kind, found.evidence["curve"]) == ("needs_more_training", "val_loss")


def test_a_straight_fall_under_tiny_steps_is_a_learning_rate_too_low():
    # Study 5's O08, 8 epochs: each step moves the weights 3e-5 of their norm
    # (over `update_ratio_low`), an epoch 3e-4; the loss falls every epoch,
    # in a straight line, still above chance. Not a slow start: a crawl.
    data = load_wine()
    x = ((data.data - data.data.mean(0)) / data.data.std(0)).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], data.target[order]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((13,)), keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(1e-4), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(y=y[:134], every_n_batches=2)
    model.fit(x[:134], y[:134], validation_data=(x[134:], y[134:]), epochs=8, batch_size=16,
              verbose=0, callbacks=[doctor])
    assert doctor.curves()["loss"].iloc[-1] > doctor._chance_loss
    (finding,) = doctor.findings
    assert finding.kind == "learning_rate_too_low" and finding.evidence["curve"] == ["slow_progress"]
    assert finding.evidence["model_update_ratio"] > resolve_thresholds()["update_ratio_low"]
    assert 1e-4 < finding.evidence["update_travel_per_epoch"] < 1e-3
    assert finding.advice.startswith("Raise the learning rate") and "momentum" in finding.advice
