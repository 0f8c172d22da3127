import math
import os

import keras
import numpy as np
import pytest

from keras_recipes.callbacks import TrainingDoctor
from keras_recipes.callbacks import _layers
from keras_recipes.callbacks._chance_level import loss_floor, model_chance, perfect_loss, target_chance
from keras_recipes.callbacks._diagnosis import diagnose
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds
from keras_recipes.tuning import find_learning_rate

SCCE = "sparse_categorical_crossentropy"


def _relu_net(bias=0.0):
    return keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                           bias_initializer=keras.initializers.Constant(bias)),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_dead_relu_report_and_saved_files(digits, tmp_path, models):
    x, xv, y, yv = digits
    model = _relu_net(bias=-3.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE, metrics=["accuracy"])
    doctor = TrainingDoctor(every_n_batches=2)
    model.fit(x[:320], y[:320], epochs=4, batch_size=32, validation_data=(xv[:100], yv[:100]),
              verbose=0, callbacks=[doctor])
    assert models.leftover_patches(model) == []  # the doctor undid its monitors' patches
    kinds = [f.kind for f in doctor.findings]
    assert kinds == ["dead_relu"]  # the stalled curve is its consequence
    dead = doctor.findings[0]
    assert dead.layer == "dense" and (dead.epoch, dead.step) == (0, 0)
    assert dead.evidence["median_dead_fraction"] == 1.0
    assert dead.evidence["window_steps"] >= 10
    text = doctor.report()
    assert text.startswith("Training doctor: 1 finding(s) after 4 epoch(s).")
    assert "1. dead_relu in layer 'dense' (first seen at epoch 0, step 0)" in text
    assert "median_dead_fraction=1" in text and "fix: Use He initialization" in text
    path = doctor.save_report(tmp_path / "report")
    assert os.path.basename(path) == "report.md"
    files = sorted(os.listdir(tmp_path / "report"))
    assert files == ["activation_histograms.png", "gradient_norms.png", "loss_curves.png", "report.md"]
    markdown = open(path).read()
    assert "dead_relu" in markdown and "![loss curves](loss_curves.png)" in markdown
    assert os.path.getsize(tmp_path / "report" / "loss_curves.png") > 5000
    assert list(doctor.curves().columns) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    # A bad place for the report is refused before anything is written.
    blocked = tmp_path / "blocked"
    (blocked / "report.md").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds a directory named 'report.md'.*Received: directory="):
        doctor.save_report(blocked)
    assert os.listdir(blocked) == ["report.md"]
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="`directory` names a file.*Received: directory="):
        doctor.save_report(tmp_path / "a_file")
    # Writing again replaces the files, with no temporary file left.
    doctor.save_report(tmp_path / "report")
    assert sorted(os.listdir(tmp_path / "report")) == files


@pytest.mark.parametrize("with_input", [True, False])
def test_layers_starved_by_a_dead_layer_are_reported_with_it(digits, with_input):
    # Without `keras.Input` the model is built by its first step: the doctor
    # reads it then (its chance level and its graph).
    x, _, y, _ = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,))] * with_input + [
        keras.layers.Dense(32, activation="relu", name="d1",
                           bias_initializer=keras.initializers.Constant(-20.0)),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(32, activation="relu", name="d2"),
        keras.layers.Dense(32, activation="relu", name="d3"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile(optimizer="adam", loss=SCCE)
    doctor = TrainingDoctor(every_n_batches=2)
    model.fit(x[:640], y[:640], epochs=5, batch_size=32, verbose=0, callbacks=[doctor])
    dead = doctor.activation_stats.to_dataframe().groupby("layer")["dead_fraction"].median()
    assert dead["d1"] == dead["d2"] == dead["d3"] == 1.0
    assert [(f.kind, f.layer) for f in doctor.findings] == [("dead_relu", "d1")]
    assert doctor.findings[0].evidence["downstream_dead_layers"] == ["d2", "d3"]
    assert "downstream_dead_layers=['d2', 'd3']" in doctor.report()
    assert doctor._chance_loss == pytest.approx(np.log(10))


def test_units_dead_from_the_start_are_not_blamed_on_a_small_penalty(digits):
    # With Adam, a 1e-5 L2 penalty alone empties the kernels of units dead
    # from the first step: they die first, the weights shrink after.
    x, _, y, _ = digits
    keras.utils.set_random_seed(1234)
    l2 = keras.regularizers.L2(1e-5)
    model = keras.Sequential([keras.Input((64,))] + [
        keras.layers.Dense(64, activation="relu", kernel_regularizer=l2,
                           bias_initializer=keras.initializers.Constant(-10.0)) for _ in range(2)
    ] + [keras.layers.Dense(10, activation="softmax", kernel_regularizer=l2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=SCCE)
    doctor = TrainingDoctor(every_n_batches=2)
    model.fit(x[:600], y[:600], epochs=8, batch_size=32, verbose=0, callbacks=[doctor])
    norms = doctor.gradient_monitor.to_dataframe().groupby("layer", sort=False)["weight_norm"]
    assert (norms.last() / norms.first()).iloc[0] < 0.01  # the kernels did shrink
    assert [f.kind for f in doctor.findings] == ["dead_relu"]


def test_dominators_follow_the_functional_graph():
    inputs = keras.Input((4,))
    left = keras.layers.Dense(3, activation="relu", name="left")(inputs)
    right = keras.layers.Dense(3, activation="relu", name="right")(inputs)
    joined = keras.layers.Dense(2, activation="relu", name="joined")(
        keras.layers.Concatenate(name="concat")([left, right]))
    outputs = keras.layers.Dense(1, name="out")(joined)
    found = _layers.dominators(keras.Model(inputs, outputs))
    assert "left" not in found.get("joined", set()) and "right" not in found.get("joined", set())
    assert {"concat", "joined"} <= found["out"]
    # Nested models are followed inwards; a Sequential is a chain, built or not.
    inner = keras.Sequential([keras.layers.Dense(3, activation="relu", name="e1"),
                              keras.layers.Dense(3, activation="relu", name="e2")], name="inner")
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2, name="e3")])
    assert _layers.dominators(outer) == {"e2": {"e1"}, "e3": {"e1", "e2"}}
    inner = keras.Sequential([keras.layers.Dense(3, activation="relu", name="e1"),
                              keras.layers.Dense(3, activation="relu", name="e2")], name="inner")
    inputs = keras.Input((4,))
    nested = keras.Model(inputs, keras.layers.Dense(2, name="f3")(inner(inputs)))
    assert {"e1", "e2"} <= _layers.dominators(nested)["f3"]

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(3, activation="relu")
            self.top = keras.layers.Dense(1)

        def call(self, x):
            return self.top(self.hidden(x))

    model = Subclassed()
    model(np.ones((1, 4), "float32"))
    assert _layers.dominators(model) == {}


def test_stop_on_non_finite_stops_in_the_first_epoch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32") * 3.0
    y = (x[:, 1] * x[:, 2]).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    doctor = TrainingDoctor(every_n_batches=2)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, callbacks=[doctor])
    assert len(history.history["loss"]) == 1
    assert doctor.stopped_on == "non_finite"
    assert [f.kind for f in doctor.findings][0] == "non_finite"
    assert "Training was stopped on 'non_finite'" in doctor.report()


def test_stop_on_an_epoch_level_kind_and_reuse(digits):
    x, _, y, _ = digits
    model = _relu_net(bias=-3.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE)
    doctor = TrainingDoctor(every_n_batches=2, stop_on=("dead_relu",))
    history = model.fit(x[:256], y[:256], epochs=10, batch_size=32, verbose=0, callbacks=[doctor])
    # Dead units are confirmed by the curve once there are 4 epochs.
    assert len(history.history["loss"]) == 4
    assert doctor.stopped_on == "dead_relu"
    # The same doctor on a healthy run starts from scratch.
    healthy = _relu_net()
    healthy.compile(optimizer=keras.optimizers.Adam(1e-2), loss=SCCE)
    healthy.fit(x[:256], y[:256], epochs=2, batch_size=32, verbose=0, callbacks=[doctor])
    assert doctor.stopped_on is None and doctor.findings == []
    assert len(doctor.curves()) == 2


def test_learning_rate_finder_suggestion_in_the_advice(digits, tmp_path):
    x, _, y, _ = digits
    model = _relu_net()
    model.compile(optimizer=keras.optimizers.SGD(1e-5), loss=SCCE)
    sweep = find_learning_rate(model, x, y, min_lr=1e-4, max_lr=100.0, steps=40)
    doctor = TrainingDoctor(every_n_batches=4, learning_rate_finder=sweep)
    model.fit(x[:320], y[:320], epochs=4, batch_size=32, verbose=0, callbacks=[doctor])
    kinds = [f.kind for f in doctor.findings]
    assert "loss_not_decreasing" in kinds
    advice = doctor.findings[kinds.index("loss_not_decreasing")].advice
    assert f"the LR finder suggests {sweep.suggestion:.3g}" in advice
    doctor.save_report(tmp_path)
    assert os.path.exists(tmp_path / "learning_rate_finder.png")


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown finding kind in `stop_on`.*Received: stop_on="):
        TrainingDoctor(stop_on=("nan",))
    with pytest.raises(ValueError, match="Unknown diagnosis threshold"):
        TrainingDoctor(thresholds={"dead": 0.5})
    with pytest.raises(ValueError, match="Received: learning_rate_finder='fast'"):
        TrainingDoctor(learning_rate_finder="fast")
    with pytest.raises(ValueError, match="Received: every_n_batches=0"):
        TrainingDoctor(every_n_batches=0)
    with pytest.raises(ValueError, match="`stop_on` must name finding kinds.*Received: stop_on=5"):
        TrainingDoctor(stop_on=5)
    with pytest.raises(ValueError, match="Expected a dict or None. Received: thresholds=\\[1\\]"):
        TrainingDoctor(thresholds=[1])
    with pytest.raises(ValueError, match="expected a finite number. Received: thresholds=\\{'dead_fraction': 'half'\\}"):
        TrainingDoctor(thresholds={"dead_fraction": "half"})
    with pytest.raises(ValueError, match="Received: thresholds=\\{'persistence': nan\\}"):
        TrainingDoctor(thresholds={"persistence": float("nan")})
    with pytest.raises(ValueError, match="expected 0 or 1. Received: verbose='loud'"):
        TrainingDoctor(verbose="loud")


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_initial_loss_is_the_first_epochs_whatever_the_steps_per_batch(steps_per_execution):
    # A regression (no chance-level loss): the loss falls about fivefold, so
    # the doctor, which compares with the first batches' loss, finds nothing.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 3.0], "float32") + 10.0 + 3 * rng.standard_normal(64).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse", steps_per_execution=steps_per_execution)
    doctor = TrainingDoctor(every_n_batches=1)
    history = model.fit(x, y[:, None], batch_size=8, epochs=8, verbose=0, shuffle=False,
                        callbacks=[doctor])
    assert history.history["loss"][0] > 4 * history.history["loss"][-1]
    assert doctor.findings == []


def test_subclassed_model(models):
    model, _ = models.build("subclassed")
    x, y = models.data("dense")
    model.compile(keras.optimizers.SGD(1e-6), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=1)
    model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[doctor])
    # No output shape, so no chance-level reference: a loss that does not
    # move is judged against the first batches' loss.
    assert "loss_not_decreasing" in [finding.kind for finding in doctor.findings]


def test_regularization_penalty_at_the_start():
    from keras_recipes.tuning._model_parts import regularization_penalty

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5))])
    assert regularization_penalty(model) == pytest.approx(0.5 * 12)  # 12 weights of 1
    assert regularization_penalty(keras.Sequential([keras.layers.Dense(3)])) == 0.0  # not built


def test_a_second_fit_of_a_model_with_activity_regularization(digits):
    # `model.losses` keeps the activity penalty of the last traced step, a
    # graph tensor with no value: the doctor read it and crashed.
    x, _, y, _ = digits
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(16, activation="relu", activity_regularizer=keras.regularizers.L2(1e-4)),
        keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:256], y[:256], epochs=1, verbose=0)
    doctor = TrainingDoctor()
    model.fit(x[:256], y[:256], epochs=1, verbose=0, callbacks=[doctor])
    assert doctor._initial_penalty == 0.0 and len(doctor.curves()) == 1


def test_a_fit_on_an_empty_dataset_gives_an_empty_report():
    import tensorflow as tf

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    empty = tf.data.Dataset.from_tensor_slices((np.zeros((0, 4), "float32"), np.zeros(0, "int32"))).batch(8)
    doctor = TrainingDoctor()
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(empty, epochs=2, verbose=0, callbacks=[doctor])
    assert doctor.findings == []
    assert doctor.report().startswith("Training doctor: 0 finding(s)")


def test_only_a_material_penalty_or_a_weight_decay_counts_as_regularization():
    doctor = TrainingDoctor()
    doctor._initial_loss, doctor._decay = 2.3, False
    doctor._initial_penalty = 0.001  # under 1% of the starting loss
    assert not doctor._regularized()
    doctor._initial_penalty = 0.1
    assert doctor._regularized()
    doctor._initial_penalty, doctor._decay = 0.0, True  # AdamW's decoupled decay
    assert doctor._regularized()


def _compiled(units, activation, loss, inputs=4):
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss)
    return model


def _entropy(prior):
    prior = np.asarray(prior, "float64")
    return float(-np.sum(prior * np.log(prior)))


def test_chance_level_from_the_targets():
    # 90/10 labels: the prior's entropy (0.325), under half of ln 2.
    labels = np.repeat([1.0, 0.0], [60, 540])
    binary = _compiled(1, "sigmoid", "binary_crossentropy")
    assert target_chance(binary, labels) == pytest.approx(_entropy([0.1, 0.9]), abs=1e-6)
    assert target_chance(binary, labels) == pytest.approx(0.325083, abs=1e-6)
    assert model_chance(binary) == pytest.approx(math.log(2))
    smoothed = _compiled(1, "sigmoid", keras.losses.BinaryCrossentropy(label_smoothing=0.2))
    assert target_chance(smoothed, labels) == pytest.approx(_entropy([0.18, 0.82]), abs=1e-6)
    # Class ids (one of 4 classes never seen), as ids or one-hot rows.
    ids = np.repeat([0, 1, 2], [50, 30, 20])
    for loss in ("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy()):
        assert target_chance(_compiled(4, "softmax", loss), ids) == pytest.approx(
            _entropy([0.5, 0.3, 0.2]), abs=1e-6)
    ignoring = _compiled(4, "softmax", keras.losses.SparseCategoricalCrossentropy(ignore_class=2))
    assert target_chance(ignoring, ids) == pytest.approx(_entropy([0.625, 0.375]), abs=1e-6)
    one_hot = _compiled(4, "softmax", "categorical_crossentropy")
    assert target_chance(one_hot, np.eye(4)[ids]) == pytest.approx(_entropy([0.5, 0.3, 0.2]), abs=1e-6)
    balanced = _compiled(10, "softmax", "sparse_categorical_crossentropy")
    assert target_chance(balanced, np.arange(100) % 10) == pytest.approx(math.log(10), abs=1e-6)
    # Values: the loss of predicting the mean (MSE) or the median (MAE).
    values = np.random.default_rng(0).normal(3.0, 2.0, size=(500, 1)).astype("float32")
    for loss in ("mse", keras.losses.MeanSquaredError()):
        assert target_chance(_compiled(1, None, loss), values) == pytest.approx(np.var(values), rel=1e-6)
    median_deviation = np.mean(np.abs(values - np.median(values)))
    assert target_chance(_compiled(1, None, "mae"), values) == pytest.approx(median_deviation, rel=1e-6)
    # Other losses have none here: the doctor warns and falls back to the start.
    with pytest.warns(UserWarning, match="computes no chance level for the loss 'mean_squared_logarithmic_error'"):
        assert target_chance(_compiled(1, None, "msle"), values) is None
    assert model_chance(_compiled(1, None, "mse")) is None
    # Constant targets: a chance level of 0 is no scale.
    assert target_chance(balanced, np.zeros(100, "int64")) is None
    assert target_chance(_compiled(1, None, "mse"), np.ones((50, 1))) is None
    # One loss shared by several outputs sums their losses: no one chance level.
    inputs = keras.Input((4,))
    two = keras.Model(inputs, [keras.layers.Dense(3, activation="softmax")(inputs),
                               keras.layers.Dense(5, activation="softmax")(inputs)])
    two.compile("adam", "sparse_categorical_crossentropy")
    assert model_chance(two) is None and loss_floor(two) is None
    with pytest.warns(UserWarning, match="computes no chance level for a model with several outputs"):
        assert target_chance(two, [ids % 3, ids]) is None


def test_perfect_loss_is_the_entropy_of_the_smoothed_targets():
    # Binary smoothing 0.3: labels 0 and 1 become 0.15 and 0.85.
    labels = np.repeat([1.0, 0.0], [60, 540])
    smoothed = _compiled(1, "sigmoid", keras.losses.BinaryCrossentropy(label_smoothing=0.3))
    assert perfect_loss(smoothed, labels) == pytest.approx(_entropy([0.15, 0.85]), abs=1e-9)
    assert perfect_loss(smoothed, labels) == pytest.approx(0.422709, abs=1e-6)
    assert perfect_loss(smoothed) == pytest.approx(0.422709, abs=1e-6)  # hard labels assumed
    # Soft labels have a floor of their own; hard ones without smoothing none.
    binary = _compiled(1, "sigmoid", "binary_crossentropy")
    assert perfect_loss(binary, np.full(10, 0.3)) == pytest.approx(_entropy([0.3, 0.7]), abs=1e-9)
    assert perfect_loss(binary, labels) == 0.0 and perfect_loss(binary) == 0.0
    # Categorical smoothing 0.1 over 10 classes: rows of 0.91 and nine 0.01.
    categorical = _compiled(10, "softmax", keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    expected = _entropy([0.91] + [0.01] * 9)
    assert perfect_loss(categorical) == pytest.approx(expected, abs=1e-9)
    assert perfect_loss(categorical, np.eye(10)[np.arange(50) % 10]) == pytest.approx(expected, abs=1e-9)
    # No smoothing in the sparse loss; none known for other losses.
    assert perfect_loss(_compiled(10, "softmax", SCCE), np.arange(10)) == 0.0
    assert perfect_loss(_compiled(1, None, "mse"), np.ones((5, 1))) == 0.0


def test_label_smoothing_is_measured_down_to_its_floor():
    # Binary smoothing 0.3 on a task the model learns: the loss settles at
    # 0.48, 0.06 above its floor of 0.423 but over half of ln 2.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(2e-2), keras.losses.BinaryCrossentropy(label_smoothing=0.3))
    doctor = TrainingDoctor(y=y)
    model.fit(x, y, epochs=12, batch_size=64, validation_split=0.25, verbose=0, callbacks=[doctor])
    assert doctor._perfect_loss == pytest.approx(0.422709, abs=1e-6)
    last = doctor.curves()["loss"].iloc[-1]
    assert 0.5 * math.log(2) < last < 0.423 + 0.1
    assert doctor.findings == [], doctor.report()
    # Measured down to 0, the same curves read as underfitting.
    old = diagnose(doctor.curves(), None, None, resolve_thresholds(), chance_loss=math.log(2))
    assert [f.kind for f in old] == ["underfitting"]


def test_targets_and_chance_loss_are_checked(models):
    with pytest.raises(ValueError, match="`y` must be the training targets: an array of numbers.*"
                                         "Received: y=array\\(\\['cat', 'dog'\\]"):
        TrainingDoctor(y=np.array(["cat", "dog"]))
    with pytest.raises(ValueError, match="strings \\(encode the labels as integers\\).*of dtype <U3"):
        TrainingDoctor(y=np.array(["cat", "dog"]))
    # The targets of several outputs give no chance level (not an error).
    assert TrainingDoctor(y={"a": [0, 1], "b": [0.5, 0.2]}).y == {"a": [0, 1], "b": [0.5, 0.2]}
    assert TrainingDoctor(y=[np.zeros(4), np.zeros((4, 2))])._targets is not None
    with pytest.raises(ValueError, match="`y` must hold finite numbers.*with 1 non-finite value"):
        TrainingDoctor(y=[0.0, np.nan])
    with pytest.raises(ValueError, match="`chance_loss`: expected a finite number > 0.*"
                                         "Received: chance_loss=-0.3"):
        TrainingDoctor(chance_loss=-0.3)
    with pytest.raises(ValueError, match="Pass either `y`.*or `chance_loss`, not both"):
        TrainingDoctor(y=[0, 1], chance_loss=0.5)
    # What only the compiled model tells is checked when training begins,
    # before the monitors touch the model.
    x, y = models.data("dense", n=32)
    mismatches = (
        (3, "softmax", "sparse_categorical_crossentropy", y + 2,
         "expected class ids below 3, the number of output units. Received: y with class ids up to 4"),
        (3, "softmax", "sparse_categorical_crossentropy", y + 0.5,
         "expected class ids \\(integers >= 0\\)"),
        (1, "sigmoid", "binary_crossentropy", 2.0 * (y > 0), "expected labels in \\[0, 1\\].*"
         "Received: y with values from 0 to 2"),
        (3, "softmax", "categorical_crossentropy", y, "expected one-hot rows.*of 3 columns.*"
         "Received: y of shape \\(32,\\)"),
        # One-hot rows for a sparse loss read as class ids 0 and 1 otherwise.
        (3, "softmax", "sparse_categorical_crossentropy", np.eye(3)[y],
         "expected one class id per example.*Received: y of shape \\(32, 3\\)"),
    )
    for units, activation, loss, targets, message in mismatches:
        model = _compiled(units, activation, loss, inputs=6)
        with pytest.raises(ValueError, match=message):
            model.fit(x, targets, epochs=1, verbose=0, callbacks=[TrainingDoctor(y=targets)])
        assert models.leftover_patches(model) == []
    # A chance level given, or computed from the targets, is the reference.
    model = _compiled(3, "softmax", "sparse_categorical_crossentropy", inputs=6)
    doctor = TrainingDoctor(chance_loss=0.5)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[doctor])
    assert doctor._chance_loss == 0.5
    doctor = TrainingDoctor(y=y)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[doctor])
    assert doctor._chance_loss == pytest.approx(_entropy(np.bincount(y) / len(y)), abs=1e-6)


def test_a_model_that_only_learned_the_label_prior_is_underfitting():
    # Exactly 10% positives in both splits, features that say nothing about
    # them: the model learns the prior (validation loss at its entropy,
    # 0.325, and above), which is under half of ln 2.
    rng = np.random.default_rng(0)
    x, xv = (rng.normal(size=(n, 8)).astype("float32") for n in (600, 200))
    y, yv = (rng.permutation(np.repeat([1.0, 0.0], [n // 10, n - n // 10])) for n in (600, 200))
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    doctor = TrainingDoctor(every_n_batches=5, y=y)
    model.fit(x, y, epochs=8, batch_size=32, validation_data=(xv, yv), verbose=0, callbacks=[doctor])
    prior_entropy = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert doctor._chance_loss == pytest.approx(prior_entropy, abs=1e-6)
    assert [f.kind for f in doctor.findings] == ["underfitting"]
    evidence = doctor.findings[0].evidence
    assert evidence["chance_loss"] == pytest.approx(prior_entropy, abs=1e-6)
    assert evidence["best_val_loss"] >= 0.95 * prior_entropy
    assert evidence["last_loss"] > 0.9 * prior_entropy
    # Against ln 2 the same curves look fine.
    assert diagnose(doctor.curves(), None, None, resolve_thresholds(), chance_loss=math.log(2)) == []


def test_a_regression_far_from_zero_is_not_a_learning_rate_too_high():
    # Targets of mean 100 and std 20: an untrained network predicts about 0,
    # so its first epochs sit at 20x the targets' variance (the chance level
    # from `y`). That is no instability: those epochs are measured against
    # the starting loss.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(800, 10)).astype("float32")
    y = (x @ rng.normal(size=10) * 5.0 + 100.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    doctor = TrainingDoctor(y=y)
    model.fit(x, y, epochs=6, batch_size=32, validation_split=0.2, verbose=0, callbacks=[doctor])
    assert doctor._chance_loss == pytest.approx(np.var(y), rel=1e-5)
    assert doctor.curves()["loss"].iloc[0] > 10 * doctor._chance_loss
    assert "learning_rate_too_high" not in [finding.kind for finding in doctor.findings]


def test_a_negative_add_loss_term_is_no_invalid_loss(digits):
    # A confidence penalty (minus the outputs' entropy) takes a healthy
    # model's loss below 0: the cross-entropy's floor does not hold then.
    x, _, y, _ = digits

    class ConfidencePenalty(keras.layers.Layer):
        def call(self, p):
            self.add_loss(keras.ops.mean(keras.ops.sum(
                p * keras.ops.log(keras.ops.clip(p, 1e-7, 1.0)), axis=-1)))
            return p

    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    model = keras.Model(inputs, ConfidencePenalty()(keras.layers.Dense(10, activation="softmax")(hidden)))
    model.compile("adam", "sparse_categorical_crossentropy")
    doctor = TrainingDoctor()
    model.fit(x, y, epochs=4, batch_size=32, validation_split=0.2, verbose=0, callbacks=[doctor])
    assert doctor.curves()["loss"].iloc[-1] < 0
    assert "invalid_loss" not in [finding.kind for finding in doctor.findings]


def test_a_batch_normalized_model_stuck_at_chance_gets_the_moving_statistics_advice_first():
    # Random labels: the training loss falls far below chance, the validation
    # loss never leaves it. With BatchNormalization in the model, off moving
    # statistics give the same curves, so the advice says how to tell first.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 16)).astype("float32")
    y = rng.integers(0, 4, 96)
    model = keras.Sequential([
        keras.Input((16,)), keras.layers.Dense(64), keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"), keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(y=y[:64])
    model.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=16, batch_size=16,
              verbose=0, callbacks=[doctor])
    (finding,) = [f for f in doctor.findings if f.kind == "overfitting"]
    assert finding.evidence["last_loss"] < 0.3 * finding.evidence["chance_loss"]
    assert finding.evidence["best_val_loss"] > finding.evidence["chance_loss"]
    assert finding.advice.startswith("Evaluate the training data in inference mode")


def test_a_slow_but_steady_start_is_no_underfitting(digits):
    # The study's CNN with dropout 0.3 under plain SGD at 0.05: in 36 epochs
    # the validation loss falls only from 2.30 to about 2.2, but every epoch
    # and faster and faster. Training is under way; a bigger model is no cure.
    x, xv, y, yv = digits
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.GlobalAveragePooling2D(),
        layers.Dropout(0.3), layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.SGD(0.05), SCCE)
    doctor = TrainingDoctor()
    model.fit(x[:600].reshape(-1, 8, 8, 1), y[:600], epochs=36, batch_size=64, verbose=0,
              validation_data=(xv[:200].reshape(-1, 8, 8, 1), yv[:200]), callbacks=[doctor])
    assert doctor.curves()["val_loss"].iloc[-1] > 0.9 * math.log(10)
    (finding,) = doctor.findings
    assert finding.kind == "needs_more_training"
    assert finding.evidence["falling_epochs"] >= 6
    assert finding.evidence["pace_per_epoch"] > finding.evidence["pace_per_epoch_before"]
    assert "use momentum" in finding.advice
