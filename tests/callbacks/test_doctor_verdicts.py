"""Verdicts that contradicted the run or each other (study 5), on recorded
numbers through the pure rules and on real training."""

import math

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from keras_recipes.callbacks import TrainingDoctor
from keras_recipes.callbacks._diagnosis import diagnose
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds

CHANCE = math.log(10)


def _digits(n=600):
    data = load_digits()
    return (data.data[:n] / 16.0).astype("float32"), data.target[:n]


def test_a_continued_fit_far_below_chance_is_no_stall():
    # Measured: a converged digits MLP (0.975 validation accuracy) fitted 10
    # more epochs; both curves fall every epoch, by under 2% of ln 10.
    curves = pd.DataFrame({
        "loss": [0.08237, 0.07928, 0.07632, 0.07355, 0.0709, 0.06838, 0.06601, 0.06372,
                 0.06155, 0.05948],
        "val_loss": [0.09046, 0.08826, 0.0863, 0.08435, 0.08224, 0.08057, 0.07888, 0.07715,
                     0.07562, 0.07414]})
    thresholds = resolve_thresholds()
    assert diagnose(curves, None, None, thresholds, chance_loss=CHANCE, initial_loss=0.06967) == []
    # The same small fall from chance is a stall.
    stuck = curves + (CHANCE - 0.06967)
    found = diagnose(stuck, None, None, thresholds, chance_loss=CHANCE, initial_loss=CHANCE)
    assert [f.kind for f in found] == ["loss_not_decreasing"]


def _fit(model, epochs, **compile_args):
    x, y = _digits()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  **compile_args)
    doctor = TrainingDoctor(y=y, every_n_batches=2)
    model.fit(x[:480], y[:480], epochs=epochs, batch_size=32, validation_data=(x[480:], y[480:]),
              verbose=0, callbacks=[doctor])
    return doctor


def test_a_dead_layer_explains_the_stalled_curve_in_one_piece_of_advice():
    # A wholly dead ReLU layer (bias -6) keeps the loss at chance: "lower the
    # learning rate" (dead_relu) and "raise it" (loss_not_decreasing) side by
    # side would contradict each other; the stall is the dead layer's doing.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)), keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                           bias_initializer=keras.initializers.Constant(-6.0)),
        keras.layers.Dense(10, activation="softmax")])
    doctor = _fit(model, epochs=5)
    assert doctor.curves()["loss"].iloc[-1] > 0.98 * doctor._chance_loss  # stuck at chance
    assert [(f.kind, f.layer) for f in doctor.findings] == [("dead_relu", "dense_1")]
    assert doctor.findings[0].evidence["explains"] == ["loss_not_decreasing"]
    assert "Raise the learning rate" not in doctor.report()


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_a_model_without_trainable_weights_is_told_to_unfreeze_them():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.trainable = False
    doctor = _fit(model, epochs=4)
    assert doctor.curves()["loss"].nunique() == 1  # nothing moved
    [finding] = doctor.findings
    assert finding.kind == "loss_not_decreasing" and finding.evidence["trainable_weights"] == 0
    assert "no trainable weights" in finding.advice and "trainable = True" in finding.advice
    assert "Raise the learning rate" not in finding.advice


def test_a_saturated_tanh_stack_is_one_finding_on_its_first_layer():
    # N(0, 1) kernels: every hidden tanh layer of 8 is saturated; one fix
    # (Glorot initialization) serves them all, so it is said once.
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(0.0, 1.0)
    model = keras.Sequential([keras.Input((64,))] + [
        keras.layers.Dense(64, activation="tanh", kernel_initializer=init) for _ in range(8)
    ] + [keras.layers.Dense(10, activation="softmax")])
    doctor = _fit(model, epochs=4)
    saturated = doctor.activation_stats.to_dataframe().groupby("layer", sort=False)[
        "saturated_fraction"].median()
    assert (saturated.iloc[1:8] > 0.5).all()  # dense_1 ... dense_7
    [finding] = [f for f in doctor.findings if f.kind == "saturated_activation"]
    assert finding.layer == "dense_1"
    assert finding.evidence["also_saturated_layers"] == [f"dense_{i}" for i in range(2, 8)]
    assert doctor.report().count("saturated_activation") == 1


def test_the_start_loss_is_the_first_step_when_the_first_steps_blow_up():
    from keras_recipes.callbacks._start_loss import StartLoss

    def start(batch_losses, steps_per_batch=1):
        loss, total = StartLoss(), 0.0
        for step, value in enumerate(batch_losses):
            total += value
            if (step + 1) % steps_per_batch == 0:
                loss.update(step, total / (step + 1))  # Keras logs the running mean
        return loss.value

    noisy = [2.0, 3.0, 1.5, 2.5, 2.0, 2.2, 1.8, 2.4, 1.6, 2.0, 0.1, 0.1]
    assert start(noisy) == pytest.approx(2.1)  # the mean of the first 10 steps
    blown_up = [3.0, 50.0, 9000.0, 40000.0, 100.0, 60.0, 30.0, 10.0, 8.0, 5.0]
    assert start(blown_up) == pytest.approx(3.0)
    # With several steps per batch, the first batch's mean is the first step.
    assert start(blown_up, steps_per_batch=2) == pytest.approx(26.5)
    assert start([3.0, 3.0, 9000.0, 9000.0], steps_per_batch=2) == pytest.approx(3.0)


def test_a_blow_up_without_a_chance_level_is_a_learning_rate_too_high():
    # Study 5's M04: two outputs (no chance level); Adam 0.5 blows the first
    # batches up, and their mean made every later epoch look like progress.
    x, y = _digits(1000)
    target = x.mean(axis=1)
    target = ((target - target.mean()) / target.std()).astype("float32")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(64, activation="relu")(inputs))
    model = keras.Model(inputs, {"cls": keras.layers.Dense(10, activation="softmax", name="cls")(hidden),
                                 "reg": keras.layers.Dense(1, name="reg")(hidden)})
    model.compile(keras.optimizers.Adam(0.5),
                  loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"})
    doctor = TrainingDoctor()
    model.fit(x, {"cls": y, "reg": target}, validation_split=0.2, epochs=5, batch_size=32,
              verbose=0, callbacks=[doctor])
    assert doctor._initial_loss < 10.0
    assert "learning_rate_too_high" in [f.kind for f in doctor.findings]


def test_a_dead_frozen_layer_is_told_what_can_revive_it():
    # A frozen "pre-trained" base whose units are all dead on these inputs
    # (bias -10): no learning rate or initializer moves its weights, so the
    # usual dead-ReLU advice cannot be followed.
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((64,)), keras.layers.Dense(
        32, activation="relu", bias_initializer=keras.initializers.Constant(-10.0), name="b1")],
        name="base")
    base.trainable = False
    doctor = _fit(keras.Sequential([base, keras.layers.Dense(10, activation="softmax")]), epochs=4)
    [finding] = doctor.findings
    assert (finding.kind, finding.layer) == ("dead_relu", "b1")
    assert finding.evidence["median_dead_fraction"] == 1.0
    assert finding.evidence["trainable"] is False and finding.evidence["frozen_layers"] == ["b1"]
    assert "frozen" in finding.advice and "preprocessed" in finding.advice
    assert "lower the learning rate" not in finding.advice


def test_a_dead_relu_after_a_frozen_dense_names_the_frozen_layer():
    # The ReLU is a layer of its own: the weights making its inputs are the
    # frozen Dense before it.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)), keras.layers.Dense(32, bias_initializer=keras.initializers.Constant(-10.0),
                                               trainable=False, name="frozen"),
        keras.layers.ReLU(name="relu"), keras.layers.Dense(10, activation="softmax")])
    doctor = _fit(model, epochs=4)
    [finding] = doctor.findings
    assert (finding.kind, finding.layer) == ("dead_relu", "relu")
    assert finding.evidence["trainable"] is False and finding.evidence["frozen_layers"] == ["frozen"]


def test_units_killed_by_big_steps_count_while_the_loss_falls_short():
    # Adam at 0.2 on a digits MLP (study 5's A12 is the recipes' autoencoder
    # at 0.1): the first steps move the kernel by its whole norm, 90% of the
    # ReLUs die in the first epoch, and the loss ends at 0.41 of chance, more
    # than half the way down, where dead units alone are no finding.
    x, y = _digits()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.2), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(y=y[:480], every_n_batches=4)
    model.fit(x[:480], y[:480], epochs=6, batch_size=32, validation_data=(x[480:], y[480:]),
              verbose=0, callbacks=[doctor])
    assert 0.1 < doctor.curves()["loss"].iloc[-1] / CHANCE < 0.5
    [finding] = doctor.findings
    assert (finding.kind, finding.evidence["dead_layers"]) == ("learning_rate_too_high", ["dense"])
    assert finding.evidence["median_update_ratio"] > 0.5
    assert "dead_relu" in finding.evidence["explains"]
