import keras
import numpy as np
import pytest
import tensorflow as tf
from matplotlib.figure import Figure

from keras_recipes.callbacks import ActivationStats, GradientMonitor, _layers


def manual_norms(model, x, y, scale=1.0):
    """Kernel gradient norms per layer from a plain GradientTape."""
    layers = _layers.gradient_layers(model)
    weights = [w for _, group in layers for w in group]
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True)) * scale
    grads = iter(tape.gradient(loss, weights))
    norms = {}
    for name, group in layers:
        squares = [tf.reduce_sum(tf.square(tf.cast(tf.convert_to_tensor(next(grads)), "float64") / scale)) for _ in group]
        norms[name] = float(tf.sqrt(tf.add_n(squares)))
    return norms


@pytest.mark.parametrize("kind, policy", [
    ("sequential", "float32"),
    ("embedding", "float32"),  # sparse IndexedSlices with repeated indices
    ("conv", "mixed_float16"),
    ("embedding", "mixed_float16"),
])
def test_norms_equal_a_manual_gradient_tape(models, kind, policy):
    keras.config.set_dtype_policy(policy)
    model, _ = models.build(kind)
    reference, _ = models.build(kind)
    x, y = models.data(models.data_kind(kind), n=32)
    for m in (model, reference):
        m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    reference.set_weights(model.get_weights())
    monitor, stats = GradientMonitor(every_n_batches=1), ActivationStats(every_n_batches=1)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[monitor, stats])
    assert np.isfinite(stats.to_dataframe()[["mean", "std", "min", "max"]].to_numpy()).all()
    scale = 1.0 if policy == "float32" else float(reference.optimizer.initial_scale)
    expected = manual_norms(reference, x, y, scale)
    got = monitor.to_dataframe().set_index("layer")["grad_norm"].to_dict()
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("every, steps_per_execution, records", [
    (3, 1, [0, 3, 6]),
    # Several steps per batch: the host reads the last record of each batch,
    # and its peak covers every step since the record read before.
    (1, 4, [3, 7]),
    (2, 4, [2, 6]),
    (3, 2, [0, 3, 6]),
])
def test_running_max_covers_the_steps_between_records(models, every, steps_per_execution, records):
    every_step, _ = models.build("sequential")
    sparse, _ = models.build("sequential")
    sparse.set_weights(every_step.get_weights())
    x, y = models.data("dense", n=128)
    monitors = [GradientMonitor(every_n_batches=1), GradientMonitor(every_n_batches=every)]
    for model, monitor, spe in zip((every_step, sparse), monitors, (1, steps_per_execution)):
        model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy",
                      steps_per_execution=spe)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[monitor])
    norms = monitors[0].to_dataframe().pivot(index="step", columns="layer", values="grad_norm")
    peaks = monitors[1].to_dataframe().pivot(index="step", columns="layer", values="grad_norm_max")
    assert list(peaks.index) == records
    for step, previous in zip(records, [-1] + records):
        window = norms.loc[previous + 1 : step]
        np.testing.assert_allclose(peaks.loc[step], window.max(), rtol=1e-6)


@pytest.mark.parametrize("every, steps_per_execution, steps", [
    (1, 1, list(range(8))),  # every step: the record is made in the step
    (3, 1, [0, 3, 6]),  # the host reads the weights and makes the record
    (3, 2, [0, 3, 6]),  # several steps per batch: in the step again
])
def test_update_ratio_of_plain_sgd(models, every, steps_per_execution, steps):
    model, _ = models.build("sequential")
    x, y = models.data("dense")
    initial = [np.asarray(w) for _, group in _layers.gradient_layers(model) for w in group]
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  steps_per_execution=steps_per_execution)
    monitor = GradientMonitor(every_n_batches=every)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[monitor])
    table = monitor.to_dataframe()
    assert sorted(set(table["step"])) == steps
    # SGD without momentum moves each kernel by exactly 0.1 * its gradient.
    np.testing.assert_allclose(table["update_ratio"], 0.1 * table["grad_norm"] / table["weight_norm"], rtol=1e-4)
    first = table.query("step == 0")["weight_norm"].to_numpy()
    np.testing.assert_allclose(first, [np.linalg.norm(w) for w in initial], rtol=1e-5)


def _relu_of_nan_is_zero():
    """Whether a Dense layer's ReLU maps NaN to 0 on this machine: oneDNN's
    fused MatMul + bias + ReLU does, Eigen's kernels pass NaN on."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.ReLU()])
    x = np.array([[np.nan, 1.0]] * 4, dtype="float32")
    return bool((model.predict_on_batch(x) == 0).all())


def test_non_finite_stops_training_and_is_diagnosed(models):
    model, _ = models.build("sequential")
    x, y = models.data("dense")
    x[40, 0] = np.nan  # in the third batch of the first epoch
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    monitor = GradientMonitor(every_n_batches=1, on_non_finite="stop")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, shuffle=False, callbacks=[monitor])
    assert len(history.history["loss"]) == 1
    kinds = {finding.kind: finding for finding in monitor.findings}
    finding = kinds["non_finite"]
    # Where the ReLU after "b" maps NaN to 0 (oneDNN), "out" keeps finite
    # gradients and "b" is where backpropagation first meets the NaN; where
    # it passes NaN on (Eigen's AVX2 max), "out" is the first.
    first, reached = ("b", ["a", "b"]) if _relu_of_nan_is_zero() else ("out", ["a", "b", "out"])
    assert (finding.epoch, finding.step, finding.layer) == (0, 2, first)
    assert finding.evidence["layers"] == reached


def test_healthy_digits_mlp_has_no_findings(digits):
    x_train, _, y_train, _ = digits
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    monitor = GradientMonitor(every_n_batches=5)
    model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0, callbacks=[monitor])
    assert monitor.findings == []
    assert len(monitor.to_dataframe()) == 3 * len(set(monitor.to_dataframe()["step"]))


def test_max_records_merges_neighbours(models):
    model, _ = models.build("sequential")
    x, y = models.data("dense", n=160)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    monitor = GradientMonitor(every_n_batches=1, max_records=4)
    initial = model.get_weights()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[monitor])
    steps = sorted(set(monitor.to_dataframe()["step"]))
    # 10 records, at most 4 kept: each kept record is the last of an evenly
    # spaced group of steps (0-3, 4-7, then 8-9 so far); its peak covers them.
    assert steps == [3, 7, 9]
    table = monitor.to_dataframe()
    assert (table["grad_norm_max"] >= table["grad_norm"]).all()
    every_step = GradientMonitor(every_n_batches=1)
    model.set_weights(initial)  # retrained from the same start, watched at every step
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[every_step])
    norms = every_step.to_dataframe().pivot(index="step", columns="layer", values="grad_norm")
    peaks = table.pivot(index="step", columns="layer", values="grad_norm_max")
    for step, first in ((3, 0), (7, 4), (9, 8)):
        np.testing.assert_allclose(peaks.loc[step], norms.loc[first:step].max(), rtol=1e-6)
    assert isinstance(monitor.plot(), Figure)


@pytest.mark.parametrize("kwargs, message", [
    ({"every_n_batches": 0}, "every_n_batches"),
    ({"on_non_finite": "ignore"}, "on_non_finite"),
    ({"vanishing_threshold": -1.0}, "vanishing_threshold"),
    ({"exploding_threshold": 1.0}, "exploding_threshold"),
    ({"max_records": 1}, "max_records"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"{message}.*Received: {message}="):
        GradientMonitor(**kwargs)


def test_non_finite_counts_the_steps_since_the_previous_record(models):
    model, _ = models.build("sequential")
    x, y = models.data("dense", n=128)
    x[40, 0] = np.nan  # in step 2; SGD then spreads NaN through the weights
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    monitor = GradientMonitor(every_n_batches=4)
    relu_zeroes_nan = _relu_of_nan_is_zero()
    # Where NaN reaches the output, the loss is the first thing warned about.
    warned = r"non-finite \(NaN or Inf\) gradients in \d+ layer-steps"
    if not relu_zeroes_nan:
        warned = "non-finite loss at epoch 0"
    with pytest.warns(RuntimeWarning, match=warned):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[monitor])
    table = monitor.to_dataframe()
    counts = table.pivot(index="step", columns="layer", values="non_finite")
    assert list(counts.index) == [0, 4]
    assert (counts.loc[0] == 0).all()
    # Steps 1-4: "a" and "b" meet the NaN from step 2 on; where the ReLU after
    # "b" maps NaN to 0 (oneDNN), "out" keeps finite gradients.
    assert counts.loc[4].to_dict() == {"a": 3, "b": 3, "out": 0 if relu_zeroes_nan else 3}
    peaks = table.pivot(index="step", columns="layer", values="grad_norm_max")
    assert np.isinf(peaks.loc[4, ["a", "b"]]).all()
    assert np.isfinite(peaks.loc[4, "out"]) == relu_zeroes_nan
    assert np.isfinite(peaks.loc[0]).all()


def test_empty_tables_have_the_dtypes_of_filled_ones(models):
    from keras_recipes.callbacks import ActivationStats

    for monitor in (GradientMonitor(), ActivationStats()):
        empty = monitor.to_dataframe()
        model, _ = models.build("sequential")
        x, y = models.data("dense", n=32)
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[monitor])
        filled = monitor.to_dataframe()
        assert empty.empty and not filled.empty
        assert empty.dtypes.to_dict() == filled.dtypes.to_dict()


def test_plots_of_a_dead_layer_show_its_bar_and_its_zero_norms():
    import warnings

    from keras_recipes.callbacks import ActivationStats

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="dead",
                              bias_initializer=keras.initializers.Constant(-100.0)),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    stats, gradients = ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model.fit(x, np.arange(32) % 3, batch_size=16, epochs=1, verbose=0, callbacks=[stats, gradients])
    figure = stats.plot()
    bars = [patch for patch in figure.axes[0].patches]  # the dead layer: every value 0
    assert bars and max(bar.get_width() for bar in bars) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Data has no positive values ... log-scaled"
        figure = gradients.plot()
    assert figure.axes[0].get_yscale() == "symlog"
