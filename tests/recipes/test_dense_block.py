import keras
import numpy as np
import pytest

from keras_recipes.recipes import dense_block, kernel_regularizer


def _block_model(**kwargs):
    inputs = keras.Input((10,))
    return keras.Model(inputs, dense_block(inputs, 6, name="b", **kwargs))


def test_layer_order_dense_bn_activation_dropout():
    model = _block_model(activation="relu", batch_norm=True, dropout=0.3)
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dropout"]
    assert [layer.name for layer in model.layers[1:]] == ["b_dense", "b_bn", "b_relu", "b_dropout"]
    assert model.get_layer("b_dropout").rate == pytest.approx(0.3)


def test_dense_has_no_bias_when_batch_norm_follows():
    assert model_bias(_block_model(batch_norm=True)) is None
    assert model_bias(_block_model(batch_norm=False)) is not None


def model_bias(model):
    return model.get_layer("b_dense").bias


def test_no_optional_layers_by_default():
    kinds = [type(layer).__name__ for layer in _block_model(activation="tanh").layers[1:]]
    assert kinds == ["Dense", "Activation"]


@pytest.mark.parametrize(
    "l1, l2, expected",
    [(1e-3, 0.0, keras.regularizers.L1), (0.0, 1e-3, keras.regularizers.L2),
     (1e-3, 1e-4, keras.regularizers.L1L2), (0.0, 0.0, type(None))],
)
def test_kernel_regularizer_from_l1_l2(l1, l2, expected):
    dense = _block_model(l1=l1, l2=l2).get_layer("b_dense")
    assert isinstance(dense.kernel_regularizer, expected)
    if expected is keras.regularizers.L2:
        assert dense.kernel_regularizer.l2 == pytest.approx(1e-3)


def test_regularization_loss_is_added():
    model = _block_model(l2=0.5)
    model(keras.ops.ones((1, 10)))
    kernel = model.get_layer("b_dense").kernel
    expected = 0.5 * float(keras.ops.sum(keras.ops.square(kernel)))
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_selu_dropout_is_alpha_dropout():
    model = _block_model(activation="selu", dropout=0.1)
    assert isinstance(model.get_layer("b_dropout"), keras.layers.AlphaDropout)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dropout": 1.0}, r"`dropout`: expected a float in \[0, 1\). Received: dropout=1.0"),
        ({"dropout": -0.1}, r"Received: dropout=-0.1"),
        ({"l1": -1.0}, r"`l1`: expected a number >= 0. Received: l1=-1.0"),
        ({"l2": -1e-4}, r"`l2`: expected a number >= 0. Received: l2=-0.0001"),
        ({"activation": "sigmod"}, r"Received: activation='sigmod'"),
        ({"kernel_initializer": "he_nromal"}, r"Received: kernel_initializer='he_nromal'"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _block_model(**kwargs)


def test_bad_units():
    with pytest.raises(ValueError, match=r"`units`: expected an integer >= 1. Received: units=0"):
        dense_block(keras.Input((3,)), 0)


def test_kernel_regularizer_helper_rejects_negative():
    with pytest.raises(ValueError, match="Received: l2=-1"):
        kernel_regularizer(l2=-1)


def test_blocks_built_with_one_unseeded_initializer_instance_differ():
    initializer = keras.initializers.HeNormal()
    inputs = keras.Input((8,))
    x = dense_block(inputs, 8, kernel_initializer=initializer, name="a")
    model = keras.Model(inputs, dense_block(x, 8, kernel_initializer=initializer, name="b"))
    first, second = (model.get_layer(f"{n}_dense").kernel.numpy() for n in "ab")
    assert not np.array_equal(first, second)
