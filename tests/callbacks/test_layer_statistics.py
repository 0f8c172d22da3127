import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.callbacks import ActivationStats, _statistics, layer_statistics


def numpy_statistics(y, kind):
    units = y.reshape(-1, y.shape[-1])
    saturated = {
        "sigmoid": np.mean((y < 0.01) | (y > 0.99)),
        "tanh": np.mean(np.abs(y) > 0.99),
    }.get(kind, np.nan)
    dead = np.mean(units.max(axis=0) <= 0) if kind == "relu" else np.nan
    return [y.mean(), y.std(), y.min(), y.max(), saturated, dead]


def test_statistics_match_numpy():
    x = np.random.default_rng(0).standard_normal((50, 5)).astype("float32")
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(6, activation="relu", bias_initializer=keras.initializers.Constant(-1.0), name="r"),
        keras.layers.Dense(6, activation="sigmoid", kernel_initializer=keras.initializers.RandomNormal(stddev=20.0), name="s"),
        keras.layers.Dense(4, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=3.0), name="t"),
    ])
    kernel, bias = model.layers[0].get_weights()
    kernel[:, :3] = 0.0  # units 0-2 see only the -1 bias: dead
    model.layers[0].set_weights([kernel, bias])
    table = layer_statistics(model, x)
    assert table["layer"].tolist() == ["r", "s", "t"]
    assert table["activation"].tolist() == ["relu", "sigmoid", "tanh"]
    h, expected = x, []
    for layer, kind in zip(model.layers, ["relu", "sigmoid", "tanh"]):
        h = np.asarray(layer(h))
        expected.append(numpy_statistics(h, kind))
    got = table[["mean", "std", "min", "max", "saturated_fraction", "dead_fraction"]].to_numpy()
    np.testing.assert_allclose(got, np.array(expected, dtype="float64"), rtol=1e-5, atol=1e-6)
    assert table.loc[0, "dead_fraction"] >= 0.5
    assert table.loc[1, "saturated_fraction"] > 0.05


def test_layers_filter_shared_calls_and_model_left_alone():
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(shared(shared(inputs)))
    model = keras.Model(inputs, outputs)
    x = np.ones((3, 4), "float32")
    before = model.predict(x, verbose=0)
    table = layer_statistics(model, x, layers=["shared"])
    assert table["layer"].tolist() == ["shared", "shared/call_1"]
    assert "call" not in vars(shared)
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)


def test_unknown_layer_name():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu", name="d")])
    with pytest.raises(ValueError, match="not layers with an activation.*Received: layers=\\['nope'\\]"):
        layer_statistics(model, np.ones((2, 4)), layers=["nope"])
    # A bare name is refused (not read as a list of one-letter names).
    with pytest.raises(ValueError, match="must be a list of layer names.*Received: layers='d'"):
        layer_statistics(model, np.ones((2, 4)), layers="d")


def test_traced_statistics_with_unknown_unit_counts_match_numpy():
    # Inside a traced step a layer's unit count can be unknown: the dead
    # units are then counted with ops, not constants.
    rng = np.random.default_rng(1)
    relu_a = np.maximum(rng.standard_normal((16, 6)).astype("float32") - 1.0, 0.0)
    relu_a[:, :2] = 0.0  # two dead units
    relu_b = np.maximum(rng.standard_normal((8, 3, 4)).astype("float32"), 0.0)
    relu_b[..., 3] = 0.0  # one dead channel
    tanh = np.tanh(3.0 * rng.standard_normal((16, 5)).astype("float32"))
    bins = 7
    known = tf.TensorSpec([None, 6]), tf.TensorSpec([None, None, None]), tf.TensorSpec([None, 5])

    @tf.function(input_signature=known)
    def traced(a, b, t):
        return _statistics.stacked_statistics([a, b, t], ["relu", "relu", "tanh"], bins)

    vector = traced(relu_a, relu_b, tanh).numpy()
    size = _statistics.statistics_size(bins)
    for i, (y, kind) in enumerate([(relu_a, "relu"), (relu_b, "relu"), (tanh, "tanh")]):
        stats, (low, high), counts = _statistics.unpack_statistics(vector[i * size:(i + 1) * size], bins)
        np.testing.assert_allclose(list(stats.values()), numpy_statistics(y, kind), rtol=1e-5, atol=1e-6)
        edges = (-1.0, 1.0) if kind == "tanh" else (y.min(), y.max())
        np.testing.assert_allclose((low, high), edges, rtol=1e-6)
        expected, _ = np.histogram(y.ravel(), bins=bins, range=edges)
        np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_dead_channels_follow_the_data_format(data_format):
    # Channels 0 and 1 see a -100 bias: they never fire, whichever axis holds them.
    shape = (6, 6, 3) if data_format == "channels_last" else (3, 6, 6)
    model = keras.Sequential([
        keras.Input(shape),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", data_format=data_format, name="conv",
                            bias_initializer=keras.initializers.Constant([-100.0, -100.0, 0.0, 0.0])),
        keras.layers.GlobalAveragePooling2D(data_format=data_format),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ])
    x = np.random.default_rng(0).standard_normal((16, *shape)).astype("float32")
    y = np.arange(16) % 2
    assert layer_statistics(model, x, layers=["conv"])["dead_fraction"].tolist() == [0.5]
    stats = ActivationStats(every_n_batches=1, layers=["conv"])
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    assert stats.to_dataframe()["dead_fraction"].tolist() == [0.5]


def test_wrapped_layers_are_watched_with_their_inner_activation():
    dead = keras.initializers.Constant([-100.0, -100.0, 0.0, 0.0])
    inputs = keras.Input((5, 4, 4, 3))
    frames = keras.layers.TimeDistributed(keras.layers.Conv2D(
        4, 3, padding="same", activation="relu", bias_initializer=dead), name="frames")(inputs)
    pooled = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D())(frames)
    both = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), name="both")(pooled)
    summed = keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode="sum", name="summed")(both)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(summed))
    x = np.random.default_rng(0).standard_normal((8, 5, 4, 4, 3)).astype("float32")
    table = layer_statistics(model, x).set_index("layer")
    # A summed pair of tanh outputs leaves tanh's range: not read as tanh.
    assert list(table.index) == ["frames", "both", "out"]
    assert table.loc["frames", "activation"] == "relu"
    assert table.loc["frames", "dead_fraction"] == 0.5  # channels 0 and 1 of 4
    assert table.loc["both", "activation"] == "tanh"
    assert -1.0 <= table.loc["both", "min"] <= table.loc["both", "max"] <= 1.0
    # Channels first inside TimeDistributed: the time axis comes before them.
    wrapped = keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, data_format="channels_first"))
    assert _statistics.unit_axis(wrapped) == 2
