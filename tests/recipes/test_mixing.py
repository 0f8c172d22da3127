import numpy as np
import pytest
import tensorflow as tf
import keras

from keras_recipes.recipes import cutmix, mixup

BATCH = 16


def _one_image_per_class(pattern):
    """Image i (class i) is `pattern(i)`; labels are the class ids 0..15."""
    images = np.stack([pattern(i) for i in range(BATCH)]).astype("float32")
    return tf.data.Dataset.from_tensor_slices((images, np.arange(BATCH))).batch(
        BATCH), images


def _batches(dataset, count=3):
    return list(dataset.repeat().take(count).as_numpy_iterator())


def test_mixup_label_weights_equal_the_pixel_weights():
    rng = np.random.default_rng(0)
    dataset, images = _one_image_per_class(
        lambda i: rng.uniform(size=(8, 8, 3)))
    mixed_some = False
    for mixed, labels in _batches(mixup(dataset, alpha=0.4, num_classes=BATCH,
                                        seed=1)):
        assert mixed.shape == images.shape and labels.shape == (BATCH, BATCH)
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
        # Mixed image = sum over classes of label weight * that class's image.
        expected = np.einsum("bc,chwk->bhwk", labels, images)
        np.testing.assert_allclose(mixed, expected, atol=1e-5)
        mixed_some |= bool((labels.max(axis=1) < 0.9).any())
    assert mixed_some


def test_cutmix_label_weight_is_the_pasted_area_fraction():
    dataset, images = _one_image_per_class(lambda i: np.full((8, 8, 1), i))
    pasted_some = False
    for mixed, labels in _batches(cutmix(dataset, num_classes=BATCH, seed=2)):
        assert mixed.shape == images.shape and labels.shape == (BATCH, BATCH)
        for index, (image, label) in enumerate(zip(mixed[..., 0], labels)):
            shares = np.array([(image == c).mean() for c in range(BATCH)])
            np.testing.assert_allclose(label, shares, atol=1e-6)
            pasted = image != index
            if pasted.any():
                pasted_some = True
                rows, cols = np.nonzero(pasted)
                box = pasted[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
                assert box.all()  # one pasted rectangle
    assert pasted_some


def test_mixing_a_batch_of_copies_is_the_identity():
    image = np.random.default_rng(3).uniform(size=(8, 8, 3)).astype("float32")
    images = np.repeat(image[None], BATCH, axis=0)
    labels = np.tile(np.eye(4, dtype="float32")[1], (BATCH, 1))
    dataset = tf.data.Dataset.from_tensors((images, labels))
    for recipe in (mixup, cutmix):
        [(mixed, mixed_labels)] = list(recipe(dataset, seed=4).as_numpy_iterator())
        np.testing.assert_allclose(mixed, images, atol=1e-6)
        np.testing.assert_allclose(mixed_labels, labels, atol=1e-6)


def test_integer_labels_of_shape_batch_by_one_are_one_hot_encoded():
    images = np.zeros((4, 8, 8, 1), dtype="float32")
    dataset = tf.data.Dataset.from_tensors((images, np.array([[0], [1], [2], [1]])))
    [(_, labels)] = list(mixup(dataset, num_classes=3, seed=0).as_numpy_iterator())
    assert labels.shape == (4, 3) and labels.dtype == np.float32


def test_the_same_seed_gives_the_same_batches():
    dataset, _ = _one_image_per_class(lambda i: np.full((8, 8, 1), i))
    for recipe in (mixup, cutmix):
        first, second = (
            _batches(recipe(dataset, num_classes=BATCH, seed=5), count=1)[0]
            for _ in range(2)
        )
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("recipe", [mixup, cutmix])
def test_training_on_mixed_batches_classifies_the_original_images(digits, recipe):
    x_train, x_test, y_train, y_test = digits
    train = tf.data.Dataset.from_tensor_slices(
        (x_train.reshape(-1, 8, 8, 1), y_train)).shuffle(2000, seed=0).batch(32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(recipe(train, num_classes=10, seed=0), epochs=8, verbose=0)
    # Evaluated on the original (unmixed) test images.
    test_labels = keras.utils.to_categorical(y_test, 10)
    assert model.evaluate(x_test.reshape(-1, 8, 8, 1), test_labels,
                          verbose=0)[1] >= 0.85


def _dataset(images_shape=(4, 8, 8, 1), labels=None):
    labels = np.arange(4) if labels is None else labels
    return tf.data.Dataset.from_tensors((np.zeros(images_shape, "float32"), labels))


def test_a_dataset_that_is_not_batched_images_and_labels_is_an_error():
    for recipe in (mixup, cutmix):
        with pytest.raises(ValueError, match="Expected a `tf.data.Dataset` of"):
            recipe(np.zeros((4, 8, 8, 1)))
        with pytest.raises(ValueError, match="Expected a `tf.data.Dataset` of"):
            recipe(tf.data.Dataset.from_tensors(np.zeros((4, 8, 8, 1))))
        with pytest.raises(ValueError, match="call `dataset.batch"):
            recipe(_dataset((8, 8, 1)), num_classes=4)


def test_labels_that_cannot_be_one_hot_are_an_error():
    for recipe in (mixup, cutmix):
        with pytest.raises(ValueError, match="Integer labels need `num_classes`"):
            recipe(_dataset())
        with pytest.raises(ValueError, match="Integer labels need `num_classes`"):
            recipe(_dataset(labels=np.zeros((4, 2), "int64")), num_classes=2)
        with pytest.raises(ValueError, match="Received: num_classes=0"):
            recipe(_dataset(), num_classes=0)
        with pytest.raises(ValueError, match="one-hot labels of shape"):
            recipe(_dataset(labels=np.zeros(4, "float32")))
        with pytest.raises(ValueError, match="must have `num_classes` columns"):
            recipe(_dataset(labels=np.eye(4, dtype="float32")), num_classes=3)


@pytest.mark.parametrize("recipe", [mixup, cutmix])
def test_a_label_out_of_range_stops_at_its_batch(recipe):
    # tf.one_hot would make it a row of zeros, spread by mixing into labels
    # that no longer sum to 1.
    mixed = recipe(_dataset(labels=np.array([0, 1, 5, 2], "int64")), num_classes=4, seed=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Integer labels must be in \[0, num_classes=4\)"):
        next(iter(mixed))
    _, labels = next(iter(recipe(_dataset(labels=np.array([0, 1, 3, 2], "int64")), num_classes=4, seed=0)))
    np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_bad_alpha_or_seed_is_an_error():
    for recipe in (mixup, cutmix):
        with pytest.raises(ValueError, match="Received: alpha=0"):
            recipe(_dataset(), alpha=0, num_classes=4)
        with pytest.raises(ValueError, match="Received: seed=1.5"):
            recipe(_dataset(), seed=1.5, num_classes=4)
    with pytest.raises(ValueError, match="Received: alpha=2"):
        cutmix(_dataset(), alpha=2, num_classes=4)


def test_arrays_instead_of_a_dataset_are_shown_by_type_and_shape():
    arrays = (np.zeros((64, 8, 8, 1)), np.zeros(64))
    for recipe in (mixup, cutmix):
        with pytest.raises(ValueError) as error:
            recipe(arrays, num_classes=2)
        assert str(error.value) == (
            "Expected a `tf.data.Dataset` of (images, labels) batches. Received: "
            "dataset=(<ndarray shape=(64, 8, 8, 1)>, <ndarray shape=(64,)>)"
        )


@pytest.mark.parametrize("recipe", [mixup, cutmix])
def test_mixing_works_under_a_mixed_float16_policy(recipe):
    dataset, images = _one_image_per_class(lambda i: np.full((8, 8, 1), i))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        mixed, labels = _batches(recipe(dataset, num_classes=BATCH, seed=3), count=1)[0]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert mixed.dtype == np.float32 and labels.dtype == np.float32
    assert (labels.max(axis=1) < 0.99).any()  # something was mixed
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
    if recipe is mixup:  # the label weights are the pixel weights
        np.testing.assert_allclose(
            mixed, np.einsum("bc,chwk->bhwk", labels, images), atol=1e-5
        )
    else:  # each label weight is the share of that class's pixels
        shares = [[(image == c).mean() for c in range(BATCH)] for image in mixed]
        np.testing.assert_allclose(labels, shares, atol=1e-6)


def test_a_numpy_integer_seed_is_the_same_seed():
    dataset, _ = _one_image_per_class(lambda i: np.full((8, 8, 1), i))
    for recipe in (mixup, cutmix):
        numpy_seeded, int_seeded = (
            _batches(recipe(dataset, num_classes=BATCH, seed=seed), count=1)[0]
            for seed in (np.int64(5), 5)
        )
        for a, b in zip(numpy_seeded, int_seeded):
            np.testing.assert_array_equal(a, b)
