import math

import keras
import numpy as np
import pandas as pd
import pytest

from keras_recipes.tuning import diagnose_curves

CHANCE = math.log(10)


def _kinds(findings):
    return [finding.kind for finding in findings]


def _healthy():
    epochs = np.arange(20)
    loss = 0.08 + 2.2 * np.exp(-epochs / 2.0)
    val = 0.12 + 2.2 * np.exp(-epochs / 2.0)
    return pd.DataFrame({"loss": loss, "val_loss": val})


def test_healthy_curves_give_no_finding():
    assert diagnose_curves(_healthy(), chance_loss=CHANCE) == []
    assert diagnose_curves(_healthy()) == []


def test_needs_more_training_when_both_curves_still_fall():
    frame = _healthy().iloc[:5]
    findings = diagnose_curves(frame, chance_loss=CHANCE)
    assert _kinds(findings) == ["needs_more_training"]
    assert findings[0].evidence["window_val_drop"] > 0.05 * CHANCE
    assert "Train longer" in findings[0].advice
    # Without validation there is no telling whether the model still improves.
    assert diagnose_curves(frame[["loss"]], chance_loss=CHANCE) == []


def test_overfitting_points_at_the_best_validation_epoch():
    frame = _healthy()
    frame.loc[8:, "val_loss"] = frame.loc[8, "val_loss"] + 0.05 * np.arange(12)
    findings = diagnose_curves(frame, chance_loss=CHANCE)
    assert _kinds(findings) == ["overfitting"]
    assert findings[0].evidence["best_val_epoch"] == 8
    assert findings[0].epoch == 9
    assert findings[0].evidence["last_val_loss"] == pytest.approx(frame["val_loss"].iloc[-1])
    assert "dropout" in findings[0].advice


def test_small_validation_wiggle_is_not_overfitting():
    frame = _healthy()
    frame.loc[12:, "val_loss"] += 0.01 * np.arange(8) / 8  # +0.01, under 2% of ln 10
    assert diagnose_curves(frame, chance_loss=CHANCE) == []


def test_underfitting_on_a_high_plateau():
    frame = pd.DataFrame({"loss": [2.0, 1.7, 1.62, 1.61, 1.605, 1.60, 1.60],
                          "val_loss": [2.0, 1.72, 1.66, 1.65, 1.65, 1.64, 1.64]})
    findings = diagnose_curves(frame, chance_loss=CHANCE)
    assert _kinds(findings) == ["underfitting"]
    assert findings[0].evidence["last_loss"] == pytest.approx(1.60)
    assert "bigger model" in findings[0].advice


def test_not_decreasing_stops_the_other_rules():
    frame = pd.DataFrame({"loss": [2.31, 2.305, 2.303, 2.302, 2.301, 2.30],
                          "val_loss": [2.31, 2.31, 2.31, 2.31, 2.31, 2.31]})
    findings = diagnose_curves(frame, chance_loss=CHANCE, learning_rate_suggestion=0.0123)
    assert _kinds(findings) == ["loss_not_decreasing"]
    assert "0.0123" in findings[0].advice


def test_oscillating_and_diverging_and_non_finite():
    oscillating = diagnose_curves({"loss": [2.0, 1.2, 1.8, 0.9, 1.5, 1.0, 1.6, 1.1]}, chance_loss=CHANCE)
    assert _kinds(oscillating) == ["oscillating_loss"]
    assert oscillating[0].evidence["rising_epochs"] == 3
    diverging = diagnose_curves({"loss": [1.0, 0.8, 1.5, 3.0, 6.0]}, chance_loss=CHANCE)
    assert _kinds(diverging) == ["diverging_loss"]
    assert diverging[0].epoch == 2
    nan = diagnose_curves({"loss": [1.0, 0.8, float("nan")]})
    assert _kinds(nan) == ["non_finite"]
    assert nan[0].epoch == 2 and nan[0].evidence["last_finite_loss"] == 0.8


def test_short_runs_give_no_curve_finding():
    assert diagnose_curves({"loss": [2.3, 2.3, 2.3]}) == []


def test_accepts_a_keras_history_and_thresholds(digits):
    x, _, y, _ = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(1e-6), loss="sparse_categorical_crossentropy")
    history = model.fit(x[:256], y[:256], epochs=4, verbose=0)
    assert _kinds(diagnose_curves(history, chance_loss=CHANCE)) == ["loss_not_decreasing"]
    relaxed = diagnose_curves(history, chance_loss=CHANCE, thresholds={"not_decreasing_drop": -1.0})
    assert "loss_not_decreasing" not in _kinds(relaxed)


def test_bad_inputs():
    with pytest.raises(ValueError, match="needs per-epoch curves with a `loss` column"):
        diagnose_curves({"val_loss": [1.0, 0.5]})
    with pytest.raises(ValueError, match="Unknown diagnosis threshold.*Received: thresholds="):
        diagnose_curves({"loss": [1.0, 0.5]}, thresholds={"patience": 3})


@pytest.mark.parametrize("chance_loss", [0, -1.0, float("nan"), float("inf"), "2.3"])
def test_a_chance_loss_that_is_not_a_positive_number_is_rejected(chance_loss):
    with pytest.raises(ValueError, match=r"`chance_loss`: expected a finite number > 0 .* or None\. "
                                         rf"Received: chance_loss={chance_loss!r}"):
        diagnose_curves({"loss": [2.3, 2.0, 1.9, 2.5, 4.0, 8.0]}, chance_loss=chance_loss)


def test_validation_stuck_at_chance_while_training_falls_is_memorizing():
    # Shuffled labels: training falls below chance, validation never leaves
    # it; its rise (5%) is under the overfitting rule's 10%.
    loss = CHANCE * np.array([1.0, 0.95, 0.9, 0.85, 0.8, 0.75])
    val = CHANCE * np.array([1.02, 1.03, 1.01, 1.04, 1.05, 1.06])
    curves = {"loss": loss, "val_loss": val}
    findings = diagnose_curves(curves, chance_loss=CHANCE)
    assert _kinds(findings) == ["overfitting"]
    assert findings[0].evidence["chance_loss"] == pytest.approx(CHANCE)
    assert "labels match the inputs" in findings[0].advice
    assert diagnose_curves(curves) == []  # no chance level: cannot be told
