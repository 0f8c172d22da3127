"""Inputs far from standardized, and advice that fits the run (study 6).

Unscaled inputs (X02) and raw regression targets (X06), clipping advice on an
optimizer that already clips (X03), a training loss that never leaves chance
(X05: x and y unpaired) and memorization advice on a model whose validation
accuracy beats chance (X04).
"""

import keras
import numpy as np
import tensorflow as tf
from sklearn import datasets
from sklearn.datasets import make_classification

from keras_recipes.callbacks import TrainingDoctor

layers = keras.layers


def _mlp(inputs, units, outputs, out_activation):
    return keras.Sequential([
        keras.Input((inputs,)), layers.Dense(units, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(outputs, activation=out_activation),
    ])


def _fit(model, optimizer, loss, x, y, epochs, batch_size, targets, **fit):
    model.compile(optimizer=optimizer, loss=loss, metrics=fit.pop("metrics", None))
    doctor = TrainingDoctor(every_n_batches=2, stop_on=(), y=targets)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[doctor], **fit)
    return doctor


def test_unscaled_inputs_found_from_the_first_layer_scale():
    # Raw breast-cancer features reach ~4000: standardized inputs give the
    # first ReLU layer an output RMS of about 1, these give hundreds.
    data = datasets.load_breast_cancer()
    x, y = data.data[:256].astype("float32"), data.target[:256].astype("float32")
    doctor = _fit(_mlp(30, 8, 1, "sigmoid"), keras.optimizers.Adam(1e-3), "binary_crossentropy",
                  x, y, 2, 64, y)
    [finding] = doctor.findings
    assert finding.kind == "unscaled_inputs"
    assert finding.evidence["first_layer_rms"] > 30.0
    assert "Standardize the inputs" in finding.advice


def test_tiny_inputs_get_standardize_first_in_the_advice_of_the_stall():
    # Digits / 1600 (0-0.01): the first ReLU layer starts at an RMS of about
    # 0.005, a hundredth of x / 16's; plain SGD hardly moves its weights.
    data = datasets.load_digits()
    x, y = (data.data[:512] / 1600.0).astype("float32"), data.target[:512]
    doctor = _fit(_mlp(64, 32, 10, "softmax"), keras.optimizers.SGD(0.05),
                  "sparse_categorical_crossentropy", x, y, 4, 32, y)
    [finding] = doctor.findings
    assert finding.kind == "loss_not_decreasing"
    assert 0.002 < finding.evidence["first_layer_rms"] < 0.012
    # The RMS inputs of RMS 1 would give its pre-activations (He: about 1.4).
    assert 1.2 < finding.evidence["first_layer_gain"] < 1.7
    assert finding.evidence["input_rms_estimate"] < 0.012
    assert finding.advice.startswith("First standardize the inputs (the first layer's outputs "
                                     "start far below")
    assert "Raise the learning rate" in finding.advice  # its own advice follows


def test_a_first_layer_initialized_far_too_small_is_not_blamed_on_the_inputs():
    # x / 16 into N(0, 0.001^2) kernels: the first layer starts at an RMS of
    # 0.003, as digits / 1600 would under He, but its gain (0.008) says why.
    data = datasets.load_digits()
    x, y = (data.data[:640] / 16.0).astype("float32"), data.target[:640]
    model = keras.Sequential([
        keras.Input((64,)), layers.Dense(32, activation="relu",
                                         kernel_initializer=keras.initializers.RandomNormal(0.0, 0.001)),
        layers.Dense(10, activation="softmax"),
    ])
    doctor = _fit(model, keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy",
                  x[:512], y[:512], 6, 32, y[:512], validation_data=(x[512:], y[512:]))
    first = doctor.activation_stats.to_dataframe().iloc[0]
    assert np.hypot(first["mean"], first["std"]) < 0.012
    assert [finding.kind for finding in doctor.findings] == ["needs_more_training"]
    for finding in doctor.findings:
        assert "first_layer_rms" not in finding.evidence
        assert not finding.advice.startswith("First standardize")


def test_a_small_first_layer_behind_an_embedding_is_not_blamed_on_the_inputs():
    # The first Dense reads averaged embeddings (uniform in +-0.05): an RMS
    # of about 0.008 at the start, set by the Embedding, not by the inputs.
    data = datasets.load_digits()
    x, y = data.data[:512].astype("int32"), data.target[:512]
    model = keras.Sequential([
        keras.Input((64,), dtype="int32"), layers.Embedding(17, 8), layers.GlobalAveragePooling1D(),
        layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax"),
    ])
    doctor = _fit(model, keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy",
                  x, y, 4, 32, y)
    first = doctor.activation_stats.to_dataframe().iloc[0]
    assert np.hypot(first["mean"], first["std"]) < 0.012
    assert doctor.findings
    for finding in doctor.findings:
        assert "first_layer_rms" not in finding.evidence
        assert not finding.advice.startswith("First standardize")


def test_raw_regression_targets_advice_says_standardize_targets():
    data = datasets.load_diabetes()
    x, y = data.data[:256].astype("float32"), data.target[:256].astype("float32")
    doctor = _fit(_mlp(10, 16, 1, None), keras.optimizers.SGD(0.01), "mse", x, y, 4, 32, y)
    assert doctor.findings, doctor.report()
    for finding in doctor.findings:
        assert 140.0 < finding.evidence["target_rms"] < 180.0
        assert finding.advice.startswith("First standardize the regression targets")


def test_clipping_advice_knows_the_optimizer_clips():
    # NaN inputs: a non-finite finding, whose advice says to clip.
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    x[3, 1] = np.nan
    y = np.zeros(64, "int32")
    optimizer = keras.optimizers.SGD(0.01, global_clipnorm=1.0)
    doctor = _fit(_mlp(4, 4, 2, "softmax"), optimizer, "sparse_categorical_crossentropy",
                  x, y, 1, 16, None)
    finding = doctor.findings[0]
    assert finding.kind == "non_finite"
    assert finding.evidence["optimizer_clipping"] == "global_clipnorm=1"
    assert "clip the gradients;" not in finding.advice
    assert "clip lower than the optimizer's `global_clipnorm=1`" in finding.advice


def test_training_loss_at_chance_advises_checking_the_pairing():
    # x shuffled every epoch apart from y (a pipeline bug): random labels.
    data = datasets.load_digits()
    x, y = (data.data[:512] / 16.0).astype("float32"), data.target[:512]
    shuffled = tf.data.Dataset.from_tensor_slices(x).shuffle(512, seed=0, reshuffle_each_iteration=True)
    train = tf.data.Dataset.zip((shuffled, tf.data.Dataset.from_tensor_slices(y))).batch(64)
    model = _mlp(64, 32, 10, "softmax")
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=2, stop_on=(), y=y)
    model.fit(train, epochs=5, verbose=0, callbacks=[doctor])
    [finding] = doctor.findings
    assert finding.kind == "underfitting"
    assert finding.evidence["best_loss"] > 0.95 * finding.evidence["chance_loss"]
    assert finding.advice.startswith("First check that the inputs and labels are paired")


def test_a_loss_at_chance_under_heavy_dropout_advises_lowering_it_not_the_pairing():
    # Dropout 0.9 keeps both losses at chance too, but x and y are paired.
    data = datasets.load_digits()
    x, y = (data.data[:768] / 16.0).astype("float32"), data.target[:768]
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dropout(0.9, name="heavy"),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.9, name="heavy_too"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=4, stop_on=(), y=y[:576])
    model.fit(x[:576], y[:576], validation_data=(x[576:], y[576:]), epochs=8, batch_size=32,
              verbose=0, callbacks=[doctor])
    [finding] = doctor.findings
    assert finding.kind == "underfitting"
    assert finding.evidence["best_loss"] > 0.95 * finding.evidence["chance_loss"]
    assert finding.evidence["heavy_dropout"] == {"heavy": 0.9, "heavy_too": 0.9}
    assert finding.advice.startswith("Lower the dropout first (heavy 0.9, heavy_too 0.9)")
    assert "paired" not in finding.advice


def test_memorization_advice_needs_validation_accuracy_at_chance():
    # Over-confident on its errors: the validation loss never goes below
    # ln 2, yet the validation accuracy beats the majority class.
    x, y = make_classification(n_samples=120, n_features=50, n_informative=5, n_redundant=0,
                               flip_y=0.1, random_state=0)
    x, y = ((x - x.mean(0)) / x.std(0)).astype("float32"), y.astype("float32")
    doctor = _fit(_mlp(50, 64, 1, "sigmoid"), keras.optimizers.Adam(3e-2), "binary_crossentropy",
                  x, y, 8, 16, y[:90], validation_split=0.25, metrics=["accuracy"])
    [finding] = doctor.findings
    assert finding.kind == "overfitting"
    assert finding.evidence["best_val_loss"] > finding.evidence["chance_loss"] * 0.95
    assert finding.evidence["last_val_accuracy"] > finding.evidence["chance_accuracy"] + 0.1
    assert finding.advice.startswith("Regularize")
