import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import keras

from keras_recipes.recipes import standardization, zero_centering


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_standardization_gives_zero_mean_unit_std_and_zeros_constant_features(
    digits,
):
    x_train = digits[0]
    out = _numpy(standardization(x_train)(x_train))
    varying = x_train.std(axis=0) > 0
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out[:, varying].std(axis=0), 1.0, atol=1e-3)
    assert (~varying).sum() > 0
    np.testing.assert_array_equal(out[:, ~varying], 0.0)


def test_zero_centering_moves_the_mean_and_keeps_the_scale(digits):
    x_train = digits[0]
    out = _numpy(zero_centering(x_train)(x_train))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), x_train.std(axis=0), atol=1e-5)


def test_a_batched_dataset_gives_the_array_statistics(digits):
    x_train = digits[0]
    dataset = tf.data.Dataset.from_tensor_slices(x_train).batch(100)
    for recipe in (standardization, zero_centering):
        np.testing.assert_allclose(
            _numpy(recipe(dataset)(x_train)),
            _numpy(recipe(x_train)(x_train)),
            rtol=1e-4,
            atol=1e-4,
        )


def test_axis_none_uses_one_mean_for_all_features():
    x = np.array([[0.0, 2.0], [4.0, 6.0]], dtype="float32")
    np.testing.assert_allclose(
        _numpy(zero_centering(x, axis=None)(x)), x - 3.0, atol=1e-6
    )


def test_both_layers_save_and_load_inside_a_model(digits, tmp_path):
    x_train = digits[0]
    model = keras.Sequential([
        keras.Input((64,)),
        zero_centering(x_train),
        standardization(x_train * 2.0),
    ])
    path = tmp_path / "scaling.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(x_train, verbose=0), model.predict(x_train, verbose=0)
    )


def test_standardized_features_train_where_raw_ones_do_not():
    # Seed 003: unnormalized features make the optimization hard. The
    # breast-cancer features span five orders of magnitude.
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = x.astype("float32")

    def accuracy(first_layer):
        model = keras.Sequential([
            keras.Input((30,)), first_layer,
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, epochs=5, batch_size=32, verbose=0)
        return model.evaluate(x, y, verbose=0)[1]

    assert accuracy(standardization(x)) >= 0.95
    assert accuracy(keras.layers.Identity()) < 0.85


def test_empty_data_is_rejected():
    with pytest.raises(ValueError, match="at least one sample"):
        standardization(np.zeros((0, 3), dtype="float32"))
    with pytest.raises(ValueError, match="at least one sample"):
        zero_centering(np.zeros((0, 3), dtype="float32"))


def test_one_dimensional_data_is_rejected():
    y = np.array([10.0, 20.0, 30.0, 40.0], dtype="float32")
    for recipe in (standardization, zero_centering):
        with pytest.raises(
            ValueError,
            match=r"1-D `data` .* expected a 2-D array of shape \(samples, features\), e\.g\. "
            r"`data\.reshape\(-1, 1\)` .* Received: data\.shape=\(4,\)",
        ):
            recipe(y)
    # One column is one feature; axis=None treats the values as one feature as well.
    expected = (y - 25.0) / y.std()
    np.testing.assert_allclose(
        _numpy(standardization(y.reshape(-1, 1))(y.reshape(-1, 1)))[:, 0], expected, rtol=1e-5
    )
    np.testing.assert_allclose(_numpy(standardization(y, axis=None)(y)), expected, rtol=1e-5)


def test_pandas_data_gives_the_array_statistics():
    x = np.array([[1.0, 10.0], [3.0, 30.0], [8.0, 20.0]], dtype="float32")
    frame = pd.DataFrame(x, columns=["a", "b"])
    for recipe in (standardization, zero_centering):
        np.testing.assert_allclose(
            _numpy(recipe(frame)(x)), _numpy(recipe(x)(x)), rtol=1e-6
        )
    # A Series is one feature column.
    np.testing.assert_allclose(
        _numpy(zero_centering(frame["a"])(x[:, :1]))[:, 0], [-3.0, -1.0, 4.0], atol=1e-6
    )


def test_a_feature_constant_in_the_data_keeps_its_scale_on_new_data(tmp_path):
    # Digits' first 200 rows have 11 constant pixels, 8 of which vary later:
    # divided by a zero standard deviation they came out near 7.5e6.
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    x = (load_digits().data / 16.0).astype("float32")
    train, new = x[:200], x[200:]
    constant = train.std(axis=0) == 0
    assert (new[:, constant].std(axis=0) > 0).sum() == 8
    layer = standardization(train)
    expected = StandardScaler().fit(train).transform(new)
    np.testing.assert_allclose(_numpy(layer(new)), expected, rtol=1e-4, atol=1e-4)
    # Constant features are shifted by their (constant) value and not scaled.
    np.testing.assert_allclose(
        _numpy(layer(new))[:, constant], new[:, constant] - train[0, constant], atol=1e-6
    )
    model = keras.Sequential([keras.Input((64,)), layer])
    model.save(tmp_path / "standardization.keras")
    loaded = keras.models.load_model(tmp_path / "standardization.keras")
    np.testing.assert_allclose(loaded.predict(new, verbose=0), expected, rtol=1e-4, atol=1e-4)


def test_an_empty_dataset_is_rejected():
    empty = tf.data.Dataset.from_tensor_slices(np.zeros((0, 3), "float32")).batch(4)
    for recipe in (standardization, zero_centering):
        with pytest.raises(
            ValueError, match=r"at least one sample .* Received: an empty dataset, data="
        ):
            recipe(empty)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_rejected(bad):
    x = np.array([[1.0, 2.0, 3.0], [4.0, bad, 6.0]], dtype="float32")
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(1)
    for recipe in (standardization, zero_centering):
        for data in (x, dataset):
            with pytest.raises(
                ValueError,
                match=r"Expected finite values in `data` .* Received: data with a "
                r"non-finite mean or variance at features=\[1\]",
            ):
                recipe(data)
    with pytest.raises(ValueError, match=r"features=all"):
        standardization(x, axis=None)
