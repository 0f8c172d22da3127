"""The monitors inside `fit`: every model kind, nothing leaked, model unchanged."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.callbacks import ActivationStats, GradientMonitor, _instrumentation

KINDS = ["sequential", "functional_shared", "subclassed", "nested", "conv", "rnn", "embedding", "custom_step"]


def fit_monitored(model, x, y, monitors, epochs=2, **compile_kwargs):
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy", **compile_kwargs)
    return model.fit(
        x, y, batch_size=16, epochs=epochs, verbose=0, shuffle=False,
        validation_data=(x[:16], y[:16]), callbacks=monitors,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_kind(models, kind):
    model, names = models.build(kind)
    x, y = models.data(models.data_kind(kind))
    stats, gradients = ActivationStats(every_n_batches=2), GradientMonitor(every_n_batches=2)
    history = fit_monitored(model, x, y, [stats, gradients])
    assert sorted(history.history) == ["loss", "val_loss"]
    table = stats.to_dataframe()
    assert list(dict.fromkeys(table["layer"])) == names
    assert sorted(set(table["step"])) == [0, 2, 4, 6]  # 4 batches x 2 epochs
    assert sorted(set(table["epoch"])) == [0, 1]
    assert np.isfinite(table[["mean", "std", "min", "max"]].to_numpy()).all()
    grads = gradients.to_dataframe()
    assert len(set(grads["layer"])) >= 2
    assert sorted(set(grads["step"])) == [0, 2, 4, 6]
    assert (grads["grad_norm"] > 0).all() and (grads["grad_norm_max"] >= grads["grad_norm"]).all()
    assert (grads["update_ratio"] > 0).all() and (grads["non_finite"] == 0).all()
    assert models.leftover_patches(model) == []
    assert _instrumentation._CORES == {}


@pytest.mark.parametrize("kind, compile_kwargs, steps", [
    ("sequential", {"jit_compile": True}, [0, 2, 4, 6]),
    # 4 batches per epoch run as executions of 3 + 1: the last logging step
    # of each execution is recorded.
    ("conv", {"steps_per_execution": 3}, [2, 6]),
])
def test_jit_compile_and_steps_per_execution(models, kind, compile_kwargs, steps):
    model, names = models.build(kind)
    x, y = models.data(models.data_kind(kind))
    stats, gradients = ActivationStats(every_n_batches=2), GradientMonitor(every_n_batches=2)
    fit_monitored(model, x, y, [stats, gradients], **compile_kwargs)
    assert sorted(set(stats.to_dataframe()["step"])) == steps
    assert sorted(set(gradients.to_dataframe()["step"])) == steps
    assert list(dict.fromkeys(stats.to_dataframe()["layer"])) == names
    assert models.leftover_patches(model) == []


def twin(models, kind):
    first, _ = models.build(kind)
    second, _ = models.build(kind)
    second.set_weights(first.get_weights())
    return first, second


def assert_same_history(first, second):
    assert list(first.history) == list(second.history)
    for key, values in first.history.items():
        assert values == pytest.approx(second.history[key], rel=1e-6), key


def test_logs_and_model_unchanged(models, tmp_path):
    monitored, plain = twin(models, "sequential")
    x, y = models.data("dense")
    csv = keras.callbacks.CSVLogger(str(tmp_path / "monitored.csv"))
    csv_plain = keras.callbacks.CSVLogger(str(tmp_path / "plain.csv"))
    h1 = fit_monitored(monitored, x, y, [ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1), csv])
    h2 = fit_monitored(plain, x, y, [csv_plain])
    assert_same_history(h1, h2)
    assert (tmp_path / "monitored.csv").read_text().splitlines()[0] == (tmp_path / "plain.csv").read_text().splitlines()[0]
    for a, b in zip(monitored.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert models.leftover_patches(monitored) == []
    np.testing.assert_allclose(monitored.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-6)
    assert monitored.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0))
    monitored.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-6)
    later = monitored.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    later_plain = plain.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert_same_history(later, later_plain)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_dataset_of_unknown_length_gives_the_records_of_a_known_one(models):
    # On a dataset of unknown length Keras calls the step once more at each
    # epoch's end, on the exhausted iterator: that call must not count.
    x, y = models.data("dense", n=48)
    tables = []
    for model, unknown in zip(twin(models, "sequential"), (False, True)):
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if unknown:
            data = data.filter(lambda *_: True)
        stats, gradients = ActivationStats(every_n_batches=2), GradientMonitor(every_n_batches=2)
        model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
        model.fit(data.batch(16), epochs=3, verbose=0, shuffle=False, callbacks=[stats, gradients])
        tables.append((stats.to_dataframe(), gradients.to_dataframe()))
    (known_stats, known_grads), (stats, grads) = tables
    assert sorted(set(stats["step"])) == sorted(set(known_stats["step"])) == [0, 2, 4, 6, 8]
    assert sorted(set(grads["step"])) == sorted(set(known_grads["step"])) == [0, 2, 4, 6, 8]
    for table, known in ((stats, known_stats), (grads, known_grads)):
        numbers = known.select_dtypes("number").columns
        np.testing.assert_allclose(table[numbers], known[numbers], rtol=1e-5, atol=1e-7)


class Forwarder(keras.callbacks.Callback):
    """Owns monitors and forwards the hooks, as the TrainingDoctor does."""

    HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
             "on_train_batch_end", "on_train_end")

    def __init__(self, monitors):
        super().__init__()
        self.monitors = monitors
        for hook in self.HOOKS:
            setattr(self, hook, self._forward(hook))

    def set_model(self, model):
        super().set_model(model)
        for monitor in self.monitors:
            monitor.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for monitor in self.monitors:
            monitor.set_params(params)

    def _forward(self, hook):
        def forward(*args, **kwargs):
            for monitor in self.monitors:
                getattr(monitor, hook)(*args, **kwargs)

        return forward


def test_forwarded_by_another_callback_and_reused(models):
    model, names = models.build("functional_shared")
    x, y = models.data("dense")
    stats, gradients = ActivationStats(every_n_batches=3), GradientMonitor(every_n_batches=3)
    fit_monitored(model, x, y, [Forwarder([stats, gradients])])
    assert sorted(set(stats.to_dataframe()["step"])) == [0, 3, 6]
    assert sorted(set(gradients.to_dataframe()["step"])) == [0, 3, 6]
    assert models.leftover_patches(model) == []
    # Reused in a second fit: state starts over.
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    assert sorted(set(stats.to_dataframe()["step"])) == [0, 3]
    assert models.leftover_patches(model) == []


def test_one_monitor_of_a_kind_per_model(models):
    model, _ = models.build("sequential")
    x, y = models.data("dense")
    with pytest.raises(ValueError, match="Only one activations monitor"):
        fit_monitored(model, x, y, [ActivationStats(), ActivationStats()])
    assert models.leftover_patches(model) == []


class _Raises(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("interrupted")


def test_a_fit_ended_by_an_exception_is_undone_by_the_next_fit(models):
    # Keras calls no `on_train_end` when `fit` raises: the patches stay until
    # the model's next `fit`, which undoes them before anything else.
    monitored, plain = twin(models, "sequential")
    x, y = models.data("dense")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_monitored(monitored, x, y, [ActivationStats(), GradientMonitor(), _Raises()])
    fit_monitored(plain, x[:32], y[:32], [], epochs=1)
    # A plain fit runs the model's own step again, and records nothing.
    instrumented = monitored.train_function
    later = monitored.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    later_plain = plain.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert_same_history(later, later_plain)
    assert models.leftover_patches(monitored) == []
    assert monitored.train_function is not instrumented
    assert id(monitored) not in _instrumentation._CORES
    # New monitors (the user resuming) attach as on a fresh model.
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_monitored(monitored, x, y, [GradientMonitor(), _Raises()])
    stats = ActivationStats(every_n_batches=2)
    fit_monitored(monitored, x, y, [stats], epochs=1)
    assert sorted(set(stats.to_dataframe()["step"])) == [0, 2]
    assert models.leftover_patches(monitored) == []


def test_mirrored_strategy_two_cpus():
    script = os.path.join(os.path.dirname(__file__), "_mirrored_run.py")
    result = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["history"] == ["loss"]
    assert report["activation_layers"] == ["hidden", "out"]
    assert report["activation_steps"] == [0, 1]
    assert report["monitor"] == pytest.approx(report["manual"], rel=1e-5)
    assert report["patched"] is False
    assert report["host_steps"] == [0, 2]
    assert report["host_update"] == pytest.approx(report["host_sgd_update"], rel=1e-4)
    assert report["host_first_weight_norms"] == pytest.approx(report["initial_weight_norms"], rel=1e-5)
    # Sparse (embedding) gradients: the norm of their sum over the replicas.
    rows = report["embedding_rows_per_replica"]
    assert rows[0] != rows[1]
    assert report["embedding_monitor"] == pytest.approx(report["embedding_manual"], rel=1e-5)
