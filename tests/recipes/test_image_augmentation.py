import numpy as np
import pytest
import tensorflow as tf
import keras

from keras_recipes.recipes import image_augmentation

ALL_OFF = dict(flip=None, crop=0.0, translation=0.0)


@pytest.fixture(scope="module")
def images():
    """8 RGB images in [0.1, 1]: zeros can only come from cutout."""
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 1.0, size=(8, 16, 16, 3)).astype("float32")


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_identity_at_inference_and_active_in_training(images):
    augment = image_augmentation(
        rotation=0.05, brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
        cutout=0.5, seed=1,
    )
    np.testing.assert_array_equal(_numpy(augment(images, training=False)), images)
    np.testing.assert_array_equal(augment.predict(images, verbose=0), images)
    trained = _numpy(augment(images, training=True))
    assert trained.shape == images.shape
    assert np.abs(trained - images).mean() > 0.05


def test_each_switch_adds_its_keras_layer():
    layers = image_augmentation(
        flip="horizontal", crop=0.1, rotation=0.1, translation=0.1,
        brightness=0.1, cutout=0.5,
    ).layers
    assert [type(layer).__name__ for layer in layers] == [
        "RandomFlip", "RandomZoom", "RandomRotation", "RandomTranslation",
        "ColorJitter", "RandomErasing",
    ]
    jitter = layers[4]
    assert isinstance(jitter, keras.layers.RandomColorJitter)
    assert jitter.brightness_factor == 0.1 and jitter.contrast_factor is None


def test_everything_off_is_the_identity_even_in_training(images):
    augment = image_augmentation(**ALL_OFF)
    assert [type(layer).__name__ for layer in augment.layers] == ["Identity"]
    np.testing.assert_array_equal(_numpy(augment(images, training=True)), images)


def test_horizontal_flip_mirrors_whole_images(images):
    out = _numpy(image_augmentation(**{**ALL_OFF, "flip": "horizontal"},
                                    seed=3)(images, training=True))
    mirrored = images[:, :, ::-1, :]
    same = [np.array_equal(o, x) for o, x in zip(out, images)]
    flipped = [np.allclose(o, m) for o, m in zip(out, mirrored)]
    assert all(s or f for s, f in zip(same, flipped))
    assert any(flipped) and any(same)


def test_crop_zooms_in_and_keeps_the_size():
    # A linear ramp: a zoom-in shows a narrower part of the ramp over the
    # same pixels (a flatter ramp); a zoom-out would make it steeper.
    ramp = np.tile(np.linspace(0, 1, 32, dtype="float32"), (4, 32, 1))[..., None]
    out = _numpy(image_augmentation(**{**ALL_OFF, "crop": 0.5}, seed=2)(
        ramp, training=True))
    assert out.shape == ramp.shape
    slopes = np.diff(out[:, 16, 8:24, 0], axis=1).mean(axis=1)
    original = np.diff(ramp[0, 16, 8:24, 0]).mean()
    assert (slopes <= original * 1.001).all() and slopes.min() < original * 0.9


def test_cutout_zeroes_one_rectangle_per_image(images):
    out = _numpy(image_augmentation(**{**ALL_OFF, "cutout": 1.0}, seed=5)(
        images, training=True))
    for erased, original in zip(out, images):
        zero = (erased == 0).all(axis=-1)
        rows, cols = np.nonzero(zero)
        assert zero.sum() > 0
        box = zero[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all()
        np.testing.assert_array_equal(erased[~zero], original[~zero])


def test_brightness_shifts_images_within_the_value_range(images):
    out = _numpy(image_augmentation(**{**ALL_OFF, "brightness": 0.5}, seed=4)(
        images, training=True))
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out.mean(axis=(1, 2, 3)) - images.mean(axis=(1, 2, 3))).max() > 0.05


def test_the_same_seed_gives_the_same_augmentation(images):
    first, second = (
        _numpy(image_augmentation(rotation=0.1, cutout=0.5, seed=7)(
            images, training=True))
        for _ in range(2)
    )
    np.testing.assert_array_equal(first, second)


def test_works_in_a_tf_data_pipeline(images):
    augment = image_augmentation(cutout=1.0, seed=6)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(8))).batch(4)
    dataset = dataset.map(lambda x, y: (augment(x, training=True), y))
    batches = list(dataset.as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(4, 16, 16, 3)] * 2
    out = np.concatenate([x for x, _ in batches])
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]),
                                  np.arange(8))
    assert ((out == 0).all(axis=-1).sum(axis=(1, 2)) > 0).all()


def test_trains_inside_a_model_and_is_skipped_by_predict(digits, tmp_path):
    x_train, x_test, y_train, y_test = digits
    augment = image_augmentation(flip=None, crop=0.1, translation=0.1, seed=0)
    head = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model = keras.Sequential([keras.Input((8, 8, 1)), augment, head])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    images_train, images_test = (x.reshape(-1, 8, 8, 1) for x in (x_train, x_test))
    model.fit(images_train, y_train, epochs=8, batch_size=32, verbose=0)
    assert model.evaluate(images_test, y_test, verbose=0)[1] >= 0.85
    np.testing.assert_allclose(model.predict(images_test, verbose=0),
                               head.predict(images_test, verbose=0), atol=1e-6)
    path = tmp_path / "augmented.keras"
    model.save(path)
    np.testing.assert_allclose(
        keras.models.load_model(path).predict(images_test, verbose=0),
        model.predict(images_test, verbose=0), atol=1e-6,
    )


BAD_ARGUMENTS = [
    ({"flip": "diagonal"}, "Received: flip='diagonal'"),
    ({"crop": 1.0}, "Received: crop=1.0"),
    ({"rotation": -0.1}, "Received: rotation=-0.1"),
    ({"translation": 1.5}, "Received: translation=1.5"),
    ({"brightness": 1.5}, "Received: brightness=1.5"),
    ({"hue": -0.2}, "Received: hue=-0.2"),
    ({"cutout": 2}, "Received: cutout=2"),
    ({"value_range": (1, 0)}, "Received: value_range=\\(1, 0\\)"),
    ({"seed": "a"}, "Received: seed='a'"),
]


def test_bad_arguments_are_errors():
    for arguments, message in BAD_ARGUMENTS:
        with pytest.raises(ValueError, match=message):
            image_augmentation(**arguments)


def test_saturation_and_hue_refuse_grayscale_when_built():
    gray = np.random.default_rng(0).uniform(size=(2, 16, 16, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"saturation jitter needs RGB images \(3 channels\).*"
                                         r"Received: input shape \(2, 16, 16, 1\) with saturation=0.3"):
        image_augmentation(saturation=0.3)(gray, training=True)
    with pytest.raises(ValueError, match=r"saturation and hue jitter.*\(None, 16, 16, 1\)"):
        keras.Sequential([keras.Input((16, 16, 1)), image_augmentation(saturation=0.2, hue=0.1)])
    # Brightness and contrast work on one channel.
    augment = image_augmentation(brightness=0.3, contrast=0.3, seed=0)
    assert _numpy(augment(gray, training=True)).shape == gray.shape


def test_color_jitter_round_trips_through_a_saved_model(images, tmp_path):
    model = keras.Sequential([keras.Input((16, 16, 3)), image_augmentation(saturation=0.3, seed=2),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    jitter = loaded.layers[0].layers[-1]
    assert type(jitter).__name__ == "ColorJitter" and jitter.saturation_factor == 0.3
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0))


def test_every_step_trains_under_a_mixed_float16_policy(images):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        augment = image_augmentation(
            rotation=0.05, brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
            cutout=1.0, seed=2,
        )
        model = keras.Sequential([
            keras.Input((16, 16, 3)), augment, keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax", dtype="float32"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy")
        history = model.fit(images, np.arange(8) % 2, epochs=2, batch_size=4, verbose=0)
        out = _numpy(augment(images, training=True))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history.history["loss"]).all()
    # Cutout still erases a patch of every image.
    assert ((out == 0).all(axis=-1).sum(axis=(1, 2)) > 0).all()


def test_a_numpy_integer_seed_is_the_same_seed(images, tmp_path):
    numpy_seeded, int_seeded = (
        image_augmentation(rotation=0.1, cutout=0.5, seed=seed) for seed in (np.int64(7), 7)
    )
    np.testing.assert_array_equal(
        _numpy(numpy_seeded(images, training=True)), _numpy(int_seeded(images, training=True))
    )
    model = keras.Sequential([keras.Input((16, 16, 3)), numpy_seeded])
    model.save(tmp_path / "augment.keras")
    loaded = keras.models.load_model(tmp_path / "augment.keras")
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), images)
