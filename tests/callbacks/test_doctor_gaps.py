"""Gaps of the doctor closed after study 6: a hidden softmax's saturation,
and which layers read the inputs as they are (for inputs far too small)."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_recipes.callbacks import TrainingDoctor, _input_scale_rules, _layer_rules, _layers, _statistics
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds

layers = keras.layers


def test_softmax_saturation_is_the_share_of_distributions_with_one_output_above_0_99():
    # Attention-like weights over axis 1 of (batch, 7, 40), 30% of the
    # columns with logits 50x larger; and a wide softmax (300 units) on the
    # last axis, where most outputs of any softmax are below 0.01.
    rng = np.random.default_rng(0)
    for shape, axis in (((32, 7, 40), 1), ((16, 9, 300), -1)):
        logits = rng.standard_normal(shape).astype("float32")
        sharp = np.where(rng.random(np.delete(shape, axis % 3)) < 0.3, 50.0, 1.0)
        p = tf.nn.softmax(logits * np.expand_dims(sharp, axis % 3), axis=axis).numpy()
        vector = _statistics.stacked_statistics([tf.constant(p)], ["softmax"], 4).numpy()
        saturated = vector[_statistics.STATISTIC_NAMES.index("saturated_fraction")]
        np.testing.assert_allclose(saturated, np.mean(p.max(axis=axis) > 0.99), rtol=1e-5)
        assert 0.15 < saturated < 0.45
    # A sigmoid-style count of outputs at either end would call the wide
    # softmax 96% saturated.
    assert np.mean((p < 0.01) | (p > 0.99)) > 0.9


def _hidden_softmax(digits, kernel_initializer):
    x, _, y, _ = digits
    model = keras.Sequential([
        keras.Input((64,)), layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(16, kernel_initializer=kernel_initializer),
        layers.Activation("softmax", name="hidden_softmax"),
        layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=2, y=y[:320])
    model.fit(x[:320], y[:320], epochs=5, batch_size=32, verbose=0, callbacks=[doctor])
    return doctor


def test_a_hidden_softmax_driven_one_hot_is_saturated(digits):
    # N(0, 10^2) kernels before it: logits of std ~20, the largest output
    # above 0.99 on most examples, where the softmax passes < 1% of the gradient.
    doctor = _hidden_softmax(digits, keras.initializers.RandomNormal(stddev=10.0))
    [finding] = doctor.findings
    assert finding.kind == "saturated_activation" and finding.layer == "hidden_softmax"
    assert finding.evidence["activation"] == "softmax"
    assert finding.evidence["median_saturated_fraction"] > 0.7
    assert finding.advice.startswith("This hidden softmax puts almost all its weight on one output")
    assert "temperature" in finding.advice


def test_a_hidden_softmax_with_a_normal_init_is_not_saturated(digits):
    doctor = _hidden_softmax(digits, "glorot_uniform")
    assert "saturated_activation" not in [finding.kind for finding in doctor.findings]
    table = doctor.activation_stats.to_dataframe()
    assert table.loc[table["layer"] == "hidden_softmax", "saturated_fraction"].max() < 0.1


def test_a_confident_softmax_output_is_not_judged():
    # The rule on a table: a slow curve, the output softmax one-hot on 90%
    # of the examples (a confident classifier), a hidden one on 80%.
    rows = [{"step": step, "epoch": step // 5, "layer": layer, "activation": "softmax",
             "mean": 0.1, "std": 0.3, "min": 0.0, "max": 1.0, "saturated_fraction": saturated,
             "dead_fraction": np.nan}
            for step in range(0, 20, 2) for layer, saturated in (("hidden", 0.8), ("out", 0.9))]
    curve = {"progress": 0.3, "kinds": []}
    found = _layer_rules.activation_findings(pd.DataFrame(rows), curve, resolve_thresholds())
    assert [(f.kind, f.layer) for f in found] == [("saturated_activation", "hidden")]
    assert "also_saturated_layers" not in found[0].evidence


def test_every_head_of_a_several_output_model_counts_as_an_output():
    # A softmax head that is not the last watched layer is an output too:
    # confident there is no saturation.
    inputs = keras.Input((6,))
    hidden = layers.Dense(8, activation="softmax", name="hidden")(inputs)
    heads = [layers.Dense(3, activation="softmax", name="digit")(hidden),
             layers.Dense(2, activation="softmax", name="parity")(hidden)]
    model = keras.Model(inputs, heads)
    assert _layers.output_layer_names(model) == ("digit", "parity")
    rows = [{"step": step, "epoch": step // 5, "layer": layer, "activation": "softmax",
             "mean": 0.1, "std": 0.3, "min": 0.0, "max": 1.0, "saturated_fraction": 0.9,
             "dead_fraction": np.nan}
            for step in range(0, 20, 2) for layer in ("hidden", "digit", "parity")]
    curve = {"progress": 0.3, "kinds": []}
    found = _layer_rules.activation_findings(pd.DataFrame(rows), curve, resolve_thresholds(),
                                             outputs=_layers.output_layer_names(model))
    assert [(f.kind, f.layer) for f in found] == [("saturated_activation", "hidden")]


def test_a_healthy_digits_mlp_with_a_confident_softmax_output_gets_no_finding(digits):
    x, _, y, _ = digits
    model = keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"),
                              layers.Dense(32, activation="relu"),
                              layers.Dense(10, activation="softmax", name="out")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=2, y=y[:600])
    model.fit(x[:600], y[:600], epochs=8, batch_size=32, verbose=0, callbacks=[doctor])
    table = doctor.activation_stats.to_dataframe()
    assert table.loc[table["layer"] == "out", "saturated_fraction"].iloc[-1] > 0.5
    assert doctor.findings == [], doctor.report()


def test_layers_that_read_the_inputs_as_they_are_and_their_gains():
    def gains(*stack, dtype="float32", first=None):
        first = first or layers.Dense(4, activation="relu", name="first",
                                      kernel_initializer=keras.initializers.Constant(0.5))
        model = keras.Sequential([keras.Input((8,), dtype=dtype), *stack, first,
                                  layers.Dense(2, name="second")])
        return _input_scale_rules.input_gains(model)

    # sqrt(fan_in * mean(kernel ** 2)) = sqrt(8 * 0.25): what inputs of RMS 1
    # give each pre-activation.
    assert gains() == {"first": np.sqrt(2.0)}
    assert gains(layers.Rescaling(0.01), layers.Dropout(0.1)) == {"first": np.sqrt(2.0)}
    assert gains(layers.Activation("relu", name="act")) == {"act": 1.0, "first": np.sqrt(2.0)}
    # Their scale is the layer's before: a normalization's, an embedding's.
    assert gains(layers.BatchNormalization()) == {}
    adapted = layers.Normalization()
    adapted.adapt(np.random.default_rng(0).normal(size=(16, 8)).astype("float32"))
    assert gains(adapted) == {}
    assert gains(layers.Embedding(10, 4), layers.Reshape((32,)), dtype="int32") == {}
    # A kernel whose fan-out is not its last axis is not read.
    transposed = layers.Conv1DTranspose(4, 3, activation="relu", name="first")
    assert gains(layers.Reshape((8, 1)), first=transposed) == {}


def test_which_small_starts_are_read_as_tiny_inputs():
    def first_record(mean, std, dead):
        return pd.DataFrame([{"step": 0, "epoch": 0, "layer": "first", "activation": "relu",
                              "mean": mean, "std": std, "min": 0.0, "max": 1.0,
                              "saturated_fraction": np.nan, "dead_fraction": dead}])

    t = resolve_thresholds()
    tiny = _input_scale_rules.reads_tiny_inputs(first_record(0.003, 0.004, 0.1), {"first": 1.25}, t)
    assert tiny == pytest.approx((0.004, 1.25))  # RMS 0.005 over a He-like gain
    # The same start from a kernel 100x smaller than He's, not from the inputs.
    assert _input_scale_rules.reads_tiny_inputs(first_record(0.003, 0.004, 0.1), {"first": 0.0125}, t) is None
    # Not reading the inputs as they are (after an Embedding: no gain).
    assert _input_scale_rules.reads_tiny_inputs(first_record(0.003, 0.004, 0.1), {}, t) is None
    # Dead units output 0 whatever the inputs.
    assert _input_scale_rules.reads_tiny_inputs(first_record(0.0, 0.0, 1.0), {"first": 1.25}, t) is None
    assert _input_scale_rules.reads_tiny_inputs(first_record(1e-4, 1e-4, 0.6), {"first": 1.25}, t) is None
