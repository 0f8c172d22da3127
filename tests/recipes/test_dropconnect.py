import keras
import numpy as np
import pytest

from keras_recipes.recipes import DropConnect


def _pair(units=4, input_dim=6, **kwargs):
    """A DropConnect layer and a Dense layer holding the same weights."""
    drop = DropConnect(units, activation="tanh", seed=3, **kwargs)
    dense = keras.layers.Dense(units, activation="tanh")
    drop.build((None, input_dim))
    dense.build((None, input_dim))
    dense.set_weights(drop.get_weights())
    return drop, dense


def test_inference_equals_dense_with_the_same_weights():
    drop, dense = _pair(rate=0.5, bias_initializer="random_normal")
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    np.testing.assert_allclose(drop(x).numpy(), dense(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(drop(x, training=False).numpy(), dense(x).numpy(), rtol=1e-6)


def test_training_output_differs_and_its_mean_approaches_inference():
    drop = DropConnect(3, rate=0.5, seed=7)  # linear, so the mean is exactly the inference output
    x = np.random.default_rng(1).normal(size=(5, 8)).astype("float32")
    inference = drop(x).numpy()
    samples = np.stack([drop(x, training=True).numpy() for _ in range(400)])
    assert not np.allclose(samples[0], inference)
    standard_error = samples.std(axis=0) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - inference) < 4 * standard_error + 1e-6)


def test_drops_the_expected_fraction_of_weights_with_one_mask_per_batch():
    drop = DropConnect(50, rate=0.3, use_bias=False, kernel_initializer="ones", seed=0)
    identity = np.eye(40, dtype="float32")
    masked_kernel = drop(identity, training=True).numpy()  # row i is the masked row i of the kernel
    assert abs(np.mean(masked_kernel == 0.0) - 0.3) < 0.03
    np.testing.assert_allclose(masked_kernel[masked_kernel != 0], 1 / 0.7, rtol=1e-6)
    # Identical examples in one batch see the same mask.
    same = drop(np.ones((4, 40), "float32"), training=True).numpy()
    np.testing.assert_array_equal(same, np.broadcast_to(same[0], same.shape))


def test_rate_zero_trains_like_dense():
    drop, dense = _pair(rate=0.0)
    x = np.random.default_rng(2).normal(size=(8, 6)).astype("float32")
    np.testing.assert_allclose(drop(x, training=True).numpy(), dense(x).numpy(), rtol=1e-6)


def test_trains_on_digits(digits):
    x_train, x_test, y_train, y_test = digits
    model = keras.Sequential([
        keras.Input((64,)),
        DropConnect(64, rate=0.3, activation="relu", seed=1),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, batch_size=64, verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.9


def test_get_config_and_save_load(tmp_path):
    layer = DropConnect(5, rate=0.25, activation="relu", use_bias=False,
                        kernel_regularizer=keras.regularizers.L2(1e-3), seed=11, name="dc")
    config = layer.get_config()
    assert config["units"] == 5 and config["rate"] == 0.25 and config["seed"] == 11
    assert DropConnect.from_config(config).get_config() == config

    model = keras.Sequential([keras.Input((6,)), layer, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(3).normal(size=(16, 6)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], DropConnect) and loaded.layers[0].rate == 0.25
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 4, "rate": 1.0}, "Received: rate=1.0"),
        ({"units": 4, "rate": -0.1}, "Received: rate=-0.1"),
        ({"units": 4, "rate": "half"}, "Received: rate='half'"),
        ({"units": 0}, "Received: units=0"),
        ({"units": 2.5}, "Received: units=2.5"),
        ({"units": 4, "seed": 1.5}, r"expected an integer or None\. Received: seed=1\.5"),
        ({"units": 4, "seed": "3"}, "Received: seed='3'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DropConnect(**kwargs)


def test_a_numpy_integer_seed_is_the_same_seed(tmp_path):
    x = np.ones((4, 6), dtype="float32")
    layers = [DropConnect(5, rate=0.5, kernel_initializer="ones", seed=seed)
              for seed in (np.int64(3), 3)]
    numpy_seeded, int_seeded = (layer(x, training=True).numpy() for layer in layers)
    np.testing.assert_array_equal(numpy_seeded, int_seeded)
    assert type(layers[0].get_config()["seed"]) is int
    model = keras.Sequential([keras.Input((6,)), layers[0]])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
