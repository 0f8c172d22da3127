import glob
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from matplotlib.figure import Figure

from keras_recipes.callbacks import ActivationStats, layer_statistics

STATISTICS = ["mean", "std", "min", "max", "saturated_fraction", "dead_fraction"]


def small_model():
    return keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(16, activation="relu", name="relu"),
        keras.layers.Dense(16, activation="sigmoid", name="sigmoid"),
        keras.layers.Dense(8, activation="tanh", name="tanh"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


class WeightsAtBatchEnd(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [self.model.get_weights()]

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


def test_fit_statistics_equal_layer_statistics_on_the_same_batch(models):
    x, y = models.data("dense", n=64)
    model = small_model()
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    stats, weights = ActivationStats(every_n_batches=1), WeightsAtBatchEnd()
    model.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False, callbacks=[weights, stats])
    table = stats.to_dataframe()
    assert sorted(set(table["step"])) == [0, 1, 2]
    for step in (0, 2):
        # Step s ran its forward pass with the weights left by step s - 1.
        model.set_weights(weights.weights[step])
        expected = layer_statistics(model, x)
        got = table[table["step"] == step].reset_index(drop=True)
        assert got["layer"].tolist() == expected["layer"].tolist()
        np.testing.assert_allclose(got[STATISTICS].to_numpy(), expected[STATISTICS].to_numpy(), rtol=1e-5, atol=1e-6)
    assert table.columns.tolist() == ["step", "epoch", "layer", "activation", *STATISTICS]
    assert table["activation"].unique().tolist() == ["relu", "sigmoid", "tanh", "softmax"]


def test_histograms_layers_filter_and_plot(models):
    x, y = models.data("dense", n=64)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    stats = ActivationStats(every_n_batches=2, layers=["relu", "tanh"], histogram_bins=10)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    histograms = stats.histograms()
    assert histograms["layer"].tolist() == ["relu", "tanh", "relu", "tanh"]
    assert [len(c) for c in histograms["counts"]] == [10] * 4
    assert [c.sum() for c in histograms["counts"]] == [16 * 16, 16 * 8] * 2
    tanh = stats.histograms(layer="tanh")
    np.testing.assert_allclose(tanh["edges"][0], np.linspace(-1, 1, 11), rtol=1e-6)
    relu = stats.to_dataframe().query("layer == 'relu'")
    np.testing.assert_allclose(stats.histograms("relu")["edges"][0][[0, -1]], relu[["min", "max"]].iloc[0], rtol=1e-6)
    figure = stats.plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 4


def test_max_records_keeps_the_first_record(models):
    x, y = models.data("dense", n=160)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    stats = ActivationStats(every_n_batches=1, max_records=4)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    steps = sorted(set(stats.to_dataframe()["step"]))
    # 10 records, at most 4 kept: halved twice, the kept ones stay evenly
    # spaced (every 4th step), the first step included.
    assert steps == [0, 4, 8]


def test_tensorboard_events_written_from_the_host(models, tmp_path):
    x, y = models.data("dense", n=32)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[ActivationStats(every_n_batches=2, log_dir=tmp_path)])

    def tags():
        found = {}
        for path in glob.glob(str(tmp_path / "events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    found.setdefault(value.tag, []).append(event.step)
        return {tag: sorted(steps) for tag, steps in found.items()}

    assert tags()["activations/relu/dead_fraction"] == [0, 2]
    assert tags()["activations/tanh/saturated_fraction"] == [0, 2]
    assert tags()["activations/out"] == [0, 2]  # histogram
    assert "activations/out/dead_fraction" not in tags()  # NaN: not applicable
    # A later fit continues the curves from the optimizer's step count, as
    # Keras's TensorBoard callback does; the table counts from 0 in each fit.
    stats = ActivationStats(every_n_batches=2, log_dir=tmp_path)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[stats])
    assert tags()["activations/relu/dead_fraction"] == [0, 2, 4, 6]
    assert sorted(set(stats.to_dataframe()["step"])) == [0, 2]


@pytest.mark.parametrize("kwargs, message", [
    ({"every_n_batches": 0}, "every_n_batches"),
    ({"histogram_bins": 0}, "histogram_bins"),
    ({"max_records": 1}, "max_records"),
    ({"max_records": 10.0}, "max_records"),
    ({"layers": "relu"}, "layers"),
    ({"layers": 5}, "layers"),
    ({"log_dir": 5}, "log_dir"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"Received: {message}="):
        ActivationStats(**kwargs)


def test_unknown_layer_is_refused_when_training_starts(models):
    x, y = models.data("dense", n=32)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Expected names among \\['relu', 'sigmoid', 'tanh', 'out'\\]"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ActivationStats(layers=["nope"])])
    assert models.leftover_patches(model) == []
    stats = ActivationStats(layers=["tanh"])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[stats])
    assert stats.to_dataframe()["layer"].tolist() == ["tanh"]


def test_fit_with_the_monitor_warns_nothing_under_numpy_2(models):
    # Converting a Keras variable with `keras.ops.convert_to_numpy` makes
    # NumPy 2 warn (`__array__` without `copy`) at every `fit`.
    x, y = models.data("dense", n=32)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ActivationStats(every_n_batches=1)])
