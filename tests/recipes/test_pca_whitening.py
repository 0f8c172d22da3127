import json
import zipfile

import numpy as np
import pytest
import tensorflow as tf
import keras
from sklearn.decomposition import PCA

from keras_recipes.recipes import PCAWhitening


@pytest.fixture(scope="module")
def correlated():
    """5000 samples of 6 strongly correlated, off-center features."""
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6)) * np.array([3.0, 2.0, 1.0, 0.5, 0.3, 0.1])
    return (rng.normal(size=(5000, 6)) @ mixing + 5.0).astype("float32")


def _adapted(data, **kwargs):
    layer = PCAWhitening(**kwargs)
    layer.adapt(data)
    return layer


def _transform(layer, x):
    return keras.ops.convert_to_numpy(layer(x)).astype("float64")


def _covariance(y):
    return np.cov(y, rowvar=False)


def _assert_equal_up_to_column_sign(actual, expected, atol):
    signs = np.sign(np.sum(actual * expected, axis=0))
    np.testing.assert_allclose(actual * signs, expected, atol=atol)


@pytest.mark.parametrize("mode", ["pca_whitening", "zca_whitening"])
def test_whitened_data_has_identity_covariance(correlated, mode):
    y = _transform(_adapted(correlated, mode=mode), correlated)
    assert np.abs(_covariance(y) - np.eye(6)).max() < 1e-2
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-3)


def test_pca_decorrelates_and_matches_scikit_learn(correlated):
    layer = _adapted(correlated, mode="pca")
    reference = PCA().fit(correlated.astype("float64"))
    y = _transform(layer, correlated)
    covariance = _covariance(y)
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-3 * covariance.max()
    _assert_equal_up_to_column_sign(y, reference.transform(correlated), 1e-3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer.eigenvalues),
        reference.explained_variance_, rtol=1e-4,
    )
    np.testing.assert_allclose(
        layer.explained_variance_ratio, reference.explained_variance_ratio_,
        atol=1e-6,
    )


def test_pca_whitening_matches_scikit_learn_whiten(correlated):
    layer = _adapted(correlated, mode="pca_whitening", n_components=3, epsilon=0)
    reference = PCA(n_components=3, whiten=True).fit(correlated)
    y = _transform(layer, correlated)
    assert y.shape == (5000, 3)
    _assert_equal_up_to_column_sign(y, reference.transform(correlated), 1e-3)


def test_zca_output_stays_closest_to_the_input(correlated):
    centered = correlated - correlated.mean(axis=0)
    distances = {
        mode: np.mean((_transform(_adapted(correlated, mode=mode), correlated)
                       - centered) ** 2)
        for mode in ("pca_whitening", "zca_whitening")
    }
    assert distances["zca_whitening"] < distances["pca_whitening"]
    # ZCA is the whitening W minimizing E||W x - x||^2: any rotation of
    # ZCA-whitened data is another whitening, and lies farther away.
    zca = _transform(_adapted(correlated, mode="zca_whitening"), correlated)
    rng = np.random.default_rng(1)
    for _ in range(5):
        rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
        rotated = np.mean((zca @ rotation - centered) ** 2)
        assert distances["zca_whitening"] < rotated


def test_explained_variance_fraction_matches_scikit_learn(digits):
    x_train = digits[0]
    layer = _adapted(x_train, mode="pca", n_components=0.9)
    expected = PCA(n_components=0.9).fit(x_train).n_components_
    assert layer.eigenvectors.shape == (64, expected)
    assert _transform(layer, x_train[:5]).shape == (5, expected)
    assert layer.explained_variance_ratio.sum() > 0.9


def test_zca_with_reduction_keeps_the_input_width(digits):
    x_train = digits[0]
    layer = _adapted(x_train, mode="zca_whitening", n_components=20)
    y = _transform(layer, x_train)
    assert y.shape == x_train.shape
    # The output lives in the 20-dimensional principal subspace.
    assert np.linalg.matrix_rank(y, tol=1e-3) == 20


def test_streaming_dataset_equals_the_array_path(correlated):
    from_array = _adapted(correlated, mode="zca_whitening")
    datasets = {
        "batched": tf.data.Dataset.from_tensor_slices(correlated).batch(97),
        "with labels": tf.data.Dataset.from_tensor_slices(
            (correlated, np.zeros(5000))).batch(250),
        "unbatched": tf.data.Dataset.from_tensor_slices(correlated),
    }
    for dataset in datasets.values():
        streamed = _adapted(dataset, mode="zca_whitening")
        for name in ("mean", "eigenvectors", "eigenvalues"):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(getattr(streamed, name)),
                keras.ops.convert_to_numpy(getattr(from_array, name)),
                rtol=1e-5, atol=1e-5,
            )


def test_streaming_covariance_survives_a_large_offset():
    # Without shifting by a first-batch mean, sums of squares of values near
    # 1e7 (about 3e17 over the data) would swamp variances of 0.01.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3000, 3)) * np.array([1.0, 0.5, 0.1]) + 1e7
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(256)
    expected = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    for data in (x, dataset):
        layer = _adapted(data, mode="pca")
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(layer.eigenvalues), expected, rtol=1e-4
        )


def test_steps_reads_only_that_many_batches_of_a_repeated_dataset(correlated):
    dataset = tf.data.Dataset.from_tensor_slices(correlated).batch(1000)
    layer = PCAWhitening(mode="pca")
    layer.adapt(dataset.repeat(), steps=2)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer.mean),
        correlated[:2000].mean(axis=0), rtol=1e-5,
    )


def test_round_trip_through_a_keras_file(digits, tmp_path):
    x_train = digits[0]
    layer = _adapted(x_train, mode="pca_whitening", n_components=0.95)
    model = keras.Sequential([keras.Input((64,)), layer])
    path = tmp_path / "whitening.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    restored = loaded.layers[0]
    assert isinstance(restored, PCAWhitening)
    assert restored.get_config()["n_components"] == 0.95
    np.testing.assert_allclose(
        loaded.predict(x_train, verbose=0), model.predict(x_train, verbose=0),
        atol=1e-6,
    )


def test_a_layer_built_in_a_model_can_be_adapted_afterwards(correlated):
    layer = PCAWhitening(mode="pca_whitening", n_components=2)
    model = keras.Sequential([keras.Input((6,)), layer])
    assert model.output_shape == (None, 2)
    layer.adapt(correlated)
    y = model.predict(correlated, verbose=0).astype("float64")
    assert np.abs(_covariance(y) - np.eye(2)).max() < 1e-2


def test_calling_before_adapt_is_an_error(correlated):
    with pytest.raises(ValueError, match="must be adapted before it is called"):
        PCAWhitening()(correlated)
    with pytest.raises(ValueError, match="no explained variance before"):
        PCAWhitening().explained_variance_ratio


def test_fractional_components_in_a_model_before_adapt_is_an_error():
    with pytest.raises(ValueError, match="call `adapt\\(data\\)` before"):
        keras.Sequential([keras.Input((6,)), PCAWhitening(n_components=0.9)])


def test_more_components_than_features_is_an_error(correlated):
    with pytest.raises(ValueError, match="expected at most the number of input"):
        PCAWhitening(n_components=7).adapt(correlated)


def test_bad_n_components_is_an_error():
    for value in (0, 1.0, 1.5, -2, True, "all"):
        with pytest.raises(ValueError, match=f"Received: n_components={value!r}"):
            PCAWhitening(n_components=value)


def test_bad_mode_is_an_error():
    with pytest.raises(ValueError, match="Received: mode='whiten'"):
        PCAWhitening(mode="whiten")


def test_negative_epsilon_is_an_error():
    with pytest.raises(ValueError, match="Received: epsilon=-1"):
        PCAWhitening(epsilon=-1)


def test_bad_data_is_an_error(correlated):
    layer = PCAWhitening()
    with pytest.raises(ValueError, match="shape \\(samples, features\\)"):
        layer.adapt(correlated.reshape(5000, 2, 3))
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer.adapt(correlated[:1])
    with pytest.raises(ValueError, match="finite"):
        layer.adapt(np.full((4, 6), np.nan))
    with pytest.raises(ValueError, match="a NumPy array, a tensor"):
        layer.adapt(correlated.tolist())
    with pytest.raises(ValueError, match="feature tensors"):
        layer.adapt(tf.data.Dataset.from_tensor_slices({"x": correlated}))


def test_adapting_a_built_layer_to_other_features_is_an_error(correlated):
    layer = _adapted(correlated)
    with pytest.raises(ValueError, match="does not fit the already built"):
        layer.adapt(correlated[:, :4])


@pytest.mark.parametrize("n_components", [None, 3, 0.9])
def test_a_clone_given_the_weights_equals_the_original(correlated, n_components):
    model = keras.Sequential([
        keras.Input((6,)), _adapted(correlated, n_components=n_components),
    ])
    clone = keras.models.clone_model(model)
    assert clone.output_shape == model.output_shape
    with pytest.raises(ValueError, match="must be adapted before it is called"):
        clone.predict(correlated[:4], verbose=0)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(
        clone.predict(correlated, verbose=0), model.predict(correlated, verbose=0),
        atol=1e-6,
    )
    assert clone.layers[0].get_config()["n_components"] == n_components
    np.testing.assert_allclose(
        clone.layers[0].explained_variance_ratio,
        model.layers[0].explained_variance_ratio,
    )


def test_an_unadapted_layer_still_raises_after_a_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((3,)), PCAWhitening()])
    model.save(tmp_path / "unadapted.keras")
    loaded = keras.models.load_model(tmp_path / "unadapted.keras")
    with pytest.raises(ValueError, match="must be adapted before it is called"):
        loaded.predict(np.ones((2, 3), "float32"), verbose=0)


def test_a_file_saved_without_the_components_key_still_loads(digits, tmp_path):
    # Files written before get_config() recorded the resolved count.
    x_train = digits[0]
    model = keras.Sequential([
        keras.Input((64,)), _adapted(x_train, n_components=0.9),
    ])
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as source, zipfile.ZipFile(
        tmp_path / "old.keras", "w"
    ) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "config.json":
                config = json.loads(content)
                layer_config = config["config"]["layers"][1]["config"]
                del layer_config["components"]
                content = json.dumps(config)
            target.writestr(item, content)
    loaded = keras.models.load_model(tmp_path / "old.keras")
    assert "components" in model.layers[0].get_config()
    np.testing.assert_allclose(
        loaded.predict(x_train, verbose=0), model.predict(x_train, verbose=0),
        atol=1e-6,
    )


def test_adapt_steps_must_be_a_positive_integer():
    layer = PCAWhitening()
    with pytest.raises(ValueError, match="Received: steps=-1"):
        layer.adapt(np.random.default_rng(0).normal(size=(8, 3)), steps=-1)
