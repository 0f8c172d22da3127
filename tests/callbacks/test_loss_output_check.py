"""The doctor's static check that the cross-entropy reads the output as what it is."""

import keras
import numpy as np
import pytest

from keras_recipes.callbacks import Finding, TrainingDoctor
from keras_recipes.callbacks._loss_output_rules import (
    EXPLAINED_BY_MISMATCH, loss_output_findings, with_mismatch,
)

layers = keras.layers
losses = keras.losses


def _compiled(outputs, loss):
    """A small Sequential ending in `outputs` (a list of layers), compiled with `loss`."""
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"), *outputs])
    model.compile(optimizer="adam", loss=loss)
    return model


def _found(model):
    return [(f.kind, f.layer, f.evidence) for f in loss_output_findings(model)]


@pytest.mark.parametrize("loss, units, activation, name", [
    (losses.SparseCategoricalCrossentropy(), 3, None, "SparseCategoricalCrossentropy"),
    ("sparse_categorical_crossentropy", 3, None, "SparseCategoricalCrossentropy"),
    (losses.CategoricalCrossentropy(), 3, "relu", "CategoricalCrossentropy"),
    ("binary_crossentropy", 1, None, "BinaryCrossentropy"),
    (losses.BinaryFocalCrossentropy(), 1, "tanh", "BinaryFocalCrossentropy"),
    (losses.CategoricalFocalCrossentropy(), 3, None, "CategoricalFocalCrossentropy"),
])
def test_scores_under_from_logits_false_are_a_mismatch_that_from_logits_true_fixes(
        loss, units, activation, name):
    model = _compiled([layers.Dense(units, activation=activation, name="out")], loss)
    assert _found(model) == [("loss_output_mismatch", "out", {
        "loss": name, "from_logits": False, "output_activation": activation or "linear",
        "loss_reads_output_as": "probabilities"})]
    finding = loss_output_findings(model)[0]
    assert (finding.epoch, finding.step) == (0, 0)
    assert "`from_logits=True`" in finding.advice and "softmax" in finding.advice
    # Both fixes the advice names clear it: the logits said as such, or probabilities.
    fixed = getattr(losses, name)(from_logits=True)
    assert _found(_compiled([layers.Dense(units, activation=activation)], fixed)) == []
    probability = "sigmoid" if units == 1 else "softmax"
    assert _found(_compiled([layers.Dense(units, activation=probability)], loss)) == []


def test_the_last_layer_decides_the_output_activation():
    scce = "sparse_categorical_crossentropy"
    # A standalone activation layer at the end counts, in both directions.
    assert _found(_compiled([layers.Dense(3), layers.Softmax()], scce)) == []
    assert _found(_compiled([layers.Dense(3), layers.Activation("softmax")], scce)) == []
    relu = _found(_compiled([layers.Dense(3), layers.ReLU(name="relu_out")], scce))
    assert [(kind, layer, ev["output_activation"]) for kind, layer, ev in relu] == [
        ("loss_output_mismatch", "relu_out", "relu")]
    # Inside a nested model, the layer making its output.
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(3, name="inner_out")])
    inputs = keras.Input((6,))
    nested = keras.Model(inputs, inner(inputs))
    nested.compile(optimizer="adam", loss=scce)
    assert [layer for _, layer, _ in _found(nested)] == ["inner_out"]
    # A hidden linear layer is no output: the softmax after it is.
    assert _found(_compiled([layers.Dense(3), layers.Dense(3, activation="softmax")], scce)) == []


# Keras (TensorFlow backend) computes a plain cross-entropy from the logits
# under a softmax or sigmoid output, however it is written.
_RECOVERED = {
    "softmax": lambda: [layers.Dense(3, activation="softmax")],
    "Softmax layer": lambda: [layers.Dense(3), layers.Softmax()],
    "Activation softmax": lambda: [layers.Dense(3), layers.Activation("softmax")],
    "sigmoid": lambda: [layers.Dense(1, activation="sigmoid")],
    "Activation sigmoid": lambda: [layers.Dense(1), layers.Activation("sigmoid")],
}


@pytest.mark.parametrize("output", sorted(_RECOVERED))
def test_probabilities_read_as_logits_only_where_keras_does_not_recover_them(output):
    binary = "sigmoid" in output
    plain = losses.BinaryCrossentropy if binary else losses.SparseCategoricalCrossentropy
    assert _found(_compiled(_RECOVERED[output](), plain(from_logits=True))) == []
    # A focal cross-entropy applies its own sigmoid/softmax to the probabilities.
    focal = losses.BinaryFocalCrossentropy if binary else losses.CategoricalFocalCrossentropy
    found = _found(_compiled(_RECOVERED[output](), focal(from_logits=True)))
    assert [(kind, ev["from_logits"], ev["loss_reads_output_as"]) for kind, _, ev in found] == [
        ("loss_output_mismatch", True, "logits")]


def test_probabilities_keras_does_not_recover_the_logits_of():
    hard = _compiled([layers.Dense(1, activation="hard_sigmoid")],
                     losses.BinaryCrossentropy(from_logits=True))
    assert [(kind, ev["output_activation"], ev["loss_reads_output_as"])
            for kind, _, ev in _found(hard)] == [("loss_output_mismatch", "hard_sigmoid", "logits")]
    # Read as the probabilities they are, they are fine.
    hard = _compiled([layers.Dense(1, activation="hard_sigmoid")], "binary_crossentropy")
    assert _found(hard) == []


def test_nothing_is_said_where_the_output_or_the_loss_cannot_be_read(models):
    scce = "sparse_categorical_crossentropy"
    linear = _compiled([layers.Dense(3)], scce)
    assert len(_found(linear)) == 1  # what every case below would be, read
    # A custom activation, a layer with none (Dropout) at the end, another loss.
    assert _found(_compiled([layers.Dense(3, activation=lambda x: 2.0 * x)], scce)) == []
    assert _found(_compiled([layers.Dense(3), layers.Dropout(0.1)], scce)) == []
    assert _found(_compiled([layers.Dense(1)], "mse")) == []
    # A subclassed model: which layer makes the output is unknown.
    subclassed, _ = models.build("subclassed")
    subclassed.out.activation = keras.activations.linear
    subclassed.compile(optimizer="adam", loss=scce)
    subclassed(np.zeros((2, 6), "float32"))  # built, as in `fit`
    assert _found(subclassed) == []
    # Several outputs.
    inputs = keras.Input((6,))
    hidden = layers.Dense(3)(inputs)
    two = keras.Model(inputs, [hidden, layers.Dense(3)(hidden)])
    two.compile(optimizer="adam", loss=scce)
    assert _found(two) == []


def test_the_doctor_reports_the_mismatch_first_and_drops_what_it_explains(digits):
    # Linear scores read as probabilities: the loss falls from 7.9 to ln 10
    # and stays there, at 15% validation accuracy. Without the check the
    # doctor blames the network (the study's CNN: `dead_relu` only). Without
    # `keras.Input` the output is read after the first step.
    x, xv, y, yv = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Dense(32, activation="relu"),
                              layers.Dense(10, name="scores")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    doctor = TrainingDoctor(every_n_batches=2, stop_on=())
    model.fit(x[:640], y[:640], epochs=5, batch_size=32, validation_data=(xv[:200], yv[:200]),
              verbose=0, callbacks=[doctor])
    curves = doctor.curves()
    assert curves["loss"].iloc[-1] == pytest.approx(np.log(10), abs=0.01)
    assert curves["val_accuracy"].iloc[-1] < 0.2
    first = doctor.findings[0]
    assert (first.kind, first.layer, first.epoch) == ("loss_output_mismatch", "scores", 0)
    assert first.evidence["loss"] == "SparseCategoricalCrossentropy"
    assert first.evidence["output_activation"] == "linear"
    # What follows from it is folded into it, not reported on its own (which
    # symptom that is depends on the other rules: a stalled curve, or the
    # vanishing gradients of the clipped loss).
    assert [f.kind for f in doctor.findings] == ["loss_output_mismatch"]
    explained = first.evidence["explains"]
    assert explained and set(explained) <= set(EXPLAINED_BY_MISMATCH), explained
    assert doctor.report().splitlines()[1] == (
        "1. loss_output_mismatch in layer 'scores' (first seen at epoch 0, step 0)")


def test_the_mismatch_explains_the_symptoms_but_not_a_blow_up():
    model = _compiled([layers.Dense(3, name="out")], "sparse_categorical_crossentropy")
    mismatch = loss_output_findings(model)
    found = [Finding("non_finite"), Finding("dead_relu", layer="dense"), Finding("underfitting")]
    merged = with_mismatch(mismatch, found)
    assert [(f.kind, f.layer) for f in merged] == [
        ("loss_output_mismatch", "out"), ("non_finite", None)]
    assert merged[0].evidence["explains"] == ["dead_relu", "underfitting"]
    assert "explains" not in mismatch[0].evidence  # the model's finding is left as it was
    assert with_mismatch([], found) == found
