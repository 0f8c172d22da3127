import keras
import numpy as np
import pytest

from keras_recipes.recipes import (
    Autoencoder,
    MaskingNoise,
    autoencoder,
    denoising_autoencoder,
)


def _mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def test_symmetric_autoencoder_with_encoder_and_decoder():
    model = autoencoder((64,), [32, 16, 8])
    assert isinstance(model, Autoencoder)
    assert model.encoder.output.shape == (None, 8)
    assert model.decoder.input.shape == (None, 8)
    widths = [layer.units for layer in model.encoder.layers + model.decoder.layers
              if isinstance(layer, keras.layers.Dense)]
    assert widths == [32, 16, 8, 16, 32, 64]
    # He initialization for the ReLU layers, from the shared initializer table.
    assert isinstance(model.encoder.layers[1].kernel_initializer, keras.initializers.HeNormal)


def test_reconstruction_on_digits_and_the_code_is_the_encoder_output(digits):
    x_train, x_test, _, _ = digits
    model = autoencoder((64,), [32, 16])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    losses = model.fit(x_train, x_train, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.4 * losses[0]
    assert _mse(model.predict(x_test, verbose=0), x_test) < 0.035
    codes = model.encoder.predict(x_test, verbose=0)
    assert codes.shape == (len(x_test), 16)
    np.testing.assert_allclose(
        model.decoder.predict(codes, verbose=0), model.predict(x_test, verbose=0), atol=1e-5
    )


def test_image_shaped_inputs_are_reshaped_back():
    model = autoencoder((8, 8), [16])
    assert model.output.shape == (None, 8, 8)
    assert model.encoder.output.shape == (None, 16)


@pytest.mark.parametrize("noise, level", [("gaussian", 0.5), ("masking", 0.5)])
def test_corruption_in_training_only(noise, level):
    model = denoising_autoencoder((64,), [16], noise=noise, noise_level=level)
    x = np.random.default_rng(0).random((32, 64)).astype("float32")
    clean = model.decoder(model.encoder(x)).numpy()
    np.testing.assert_allclose(model(x, training=False).numpy(), clean, atol=1e-6)
    assert _mse(model(x, training=True), clean) > 1e-4


def test_masking_noise_zeroes_the_given_fraction_without_rescaling():
    layer = MaskingNoise(0.3, seed=1)
    x = np.full((200, 50), 2.0, dtype="float32")
    corrupted = layer(x, training=True).numpy()
    assert abs(np.mean(corrupted == 0.0) - 0.3) < 0.02
    assert set(np.unique(corrupted)) == {0.0, 2.0}
    np.testing.assert_array_equal(layer(x).numpy(), x)


def test_masking_noise_takes_a_numpy_integer_seed(tmp_path):
    x = np.ones((8, 20), dtype="float32")
    numpy_seeded, int_seeded = (MaskingNoise(0.5, seed=seed) for seed in (np.int64(3), 3))
    np.testing.assert_array_equal(
        numpy_seeded(x, training=True).numpy(), int_seeded(x, training=True).numpy()
    )
    model = keras.Sequential([keras.Input((20,)), numpy_seeded])
    model.save(tmp_path / "masking.keras")
    loaded = keras.models.load_model(tmp_path / "masking.keras")
    assert loaded.layers[0].seed == 3 and loaded.layers[0].rate == 0.5


def test_masking_denoiser_restores_masked_digits_better_than_a_plain_autoencoder(digits):
    x_train, x_test, _, _ = digits
    mask = np.random.default_rng(0).random(x_test.shape) >= 0.5
    errors = {}
    for name, model in [
        ("plain", autoencoder((64,), [32, 16])),
        ("denoising", denoising_autoencoder((64,), [32, 16], noise="masking", noise_level=0.5)),
    ]:
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        model.fit(x_train, x_train, epochs=10, batch_size=64, verbose=0)
        errors[name] = _mse(model.predict(x_test * mask, verbose=0), x_test)
    assert errors["denoising"] < 0.92 * errors["plain"]


def test_save_and_load(tmp_path):
    model = denoising_autoencoder((6,), [4, 2], noise="masking", noise_level=0.2)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).random((16, 6)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "ae.keras")
    loaded = keras.models.load_model(tmp_path / "ae.keras")
    assert isinstance(loaded, Autoencoder)
    assert loaded.get_layer("corruption").rate == 0.2
    np.testing.assert_allclose(loaded.encoder.predict(x, verbose=0),
                               model.encoder.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: autoencoder((64,), []), "Received: hidden_units=\\[\\]"),
        (lambda: autoencoder(0, [4]), "Received: input_shape=0"),
        (lambda: autoencoder((64,), [4], noise="salt"), "Received: noise='salt'"),
        (lambda: autoencoder((64,), [4], output_activation="cosine"),
         "Received: output_activation='cosine'"),
        (lambda: denoising_autoencoder((64,), [4], noise=None), "Received: noise=None"),
        (lambda: denoising_autoencoder((64,), [4], noise_level=0.0), "Received: noise_level=0.0"),
        (lambda: denoising_autoencoder((64,), [4], noise="masking", noise_level=1.0),
         "Received: noise_level=1.0"),
        (lambda: MaskingNoise(-0.1), "Received: rate=-0.1"),
        (lambda: MaskingNoise(0.1, seed=2.5),
         r"expected an integer or None\. Received: seed=2\.5"),
    ],
)
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_seeded_initializer_instance_gives_every_layer_its_own_weights():
    def kernels():
        model = autoencoder((32,), [32, 32, 32],
                            kernel_initializer=keras.initializers.GlorotUniform(seed=1))
        encoder, decoder = model.encoder, model.decoder
        return [encoder.get_layer(f"encode_{i}_dense").kernel.numpy() for i in (1, 2, 3)] + [
            decoder.get_layer(f"decode_{i}_dense").kernel.numpy() for i in (1, 2)
        ]

    first = kernels()
    # All five are 32x32: no two alike, encoder and decoder included.
    for i in range(5):
        for j in range(i + 1, 5):
            assert not np.array_equal(first[i], first[j]), (i, j)
    for kernel, again in zip(first, kernels()):  # reproducible
        np.testing.assert_array_equal(kernel, again)
