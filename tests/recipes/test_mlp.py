import warnings

import keras
import numpy as np
import pytest

from keras_recipes.recipes import classifier, mlp, regressor


def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_readable_names_and_order():
    model = mlp((64,), [64, 32], 10, batch_norm=True, dropout=0.2, l2=1e-4)
    assert [layer.name for layer in model.layers] == [
        "inputs",
        "hidden_1_dense", "hidden_1_bn", "hidden_1_relu", "hidden_1_dropout",
        "hidden_2_dense", "hidden_2_bn", "hidden_2_relu", "hidden_2_dropout",
        "output",
    ]
    assert model.output_shape == (None, 10)
    for name in ("hidden_1_dense", "hidden_2_dense", "output"):
        assert model.get_layer(name).kernel_regularizer.l2 == pytest.approx(1e-4)


def test_dropout_placement_last_puts_one_dropout_before_the_output():
    model = mlp((8,), [16, 16, 16], 3, dropout=0.5, dropout_placement="last")
    assert _kinds(model).count("Dropout") == 1
    assert model.layers[-2].name == "dropout" and model.layers[-2].rate == 0.5
    assert model.layers[-1].name == "output"


def test_per_layer_dropout_rates():
    model = mlp((8,), [16, 16, 16], 3, dropout=[0.1, 0.0, 0.3])
    rates = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [0.1, 0.3]
    assert "hidden_2_dropout" not in [layer.name for layer in model.layers]


@pytest.mark.parametrize(
    "outputs, output_activation, expected",
    [(10, None, "softmax"), (1, None, "sigmoid"), (1, "tanh", "tanh"), (3, "linear", "linear")],
)
def test_output_activation(outputs, output_activation, expected):
    model = mlp(4, [8], outputs, output_activation=output_activation)
    assert model.get_layer("output").activation.__name__ == expected


def test_image_input_is_flattened():
    model = mlp((8, 8, 1), [16], 10)
    assert model.layers[1].name == "flatten"
    assert model(np.zeros((2, 8, 8, 1), "float32")).shape == (2, 10)


def test_selu_uses_lecun_and_alpha_dropout():
    model = mlp((8,), [16, 16], 2, activation="selu", dropout=0.1)
    assert isinstance(model.get_layer("hidden_1_dense").kernel_initializer, keras.initializers.LecunNormal)
    assert isinstance(model.get_layer("hidden_1_dropout"), keras.layers.AlphaDropout)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"activation": "relu", "kernel_initializer": "glorot_uniform"}, "Xavier halves the activation variance"),
        ({"activation": "tanh", "kernel_initializer": keras.initializers.RandomNormal(stddev=0.01)},
         "activations shrink toward zero"),
        ({"activation": "sigmoid"}, "without batch normalization"),
    ],
)
def test_pitfalls_warn_in_deep_nets(kwargs, match):
    with pytest.warns(UserWarning, match=match):
        mlp((64,), [32] * 6, 10, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"activation": "relu", "kernel_initializer": "glorot_uniform", "hidden_units": [32, 32]},
        {"activation": "relu", "kernel_initializer": "glorot_uniform", "batch_norm": True},
        {"activation": "sigmoid", "batch_norm": True},
        {"activation": "relu"},
    ],
)
def test_no_pitfall_warning_for_sound_setups(kwargs):
    kwargs = {"hidden_units": [32] * 6, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mlp((64,), outputs=10, **kwargs)


def test_relu_output_with_cross_entropy_warns():
    with pytest.warns(UserWarning, match="cross-entropy needs probabilities"):
        classifier((4,), [8], 3, output_activation="relu")


def test_classifier_losses():
    sparse = classifier((4,), [8], 3)
    assert isinstance(sparse.loss, keras.losses.SparseCategoricalCrossentropy)
    binary = classifier((4,), [8], 1)
    assert isinstance(binary.loss, keras.losses.BinaryCrossentropy)
    logits = classifier((4,), [8], 3, output_activation="linear", one_hot_labels=True)
    assert isinstance(logits.loss, keras.losses.CategoricalCrossentropy)
    assert logits.loss.get_config()["from_logits"] is True


def test_classifier_uses_make_optimizer():
    model = classifier((4,), [8], 3, optimizer="nesterov", learning_rate=0.05,
                       optimizer_kwargs={"clipnorm": 1.0})
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.nesterov and model.optimizer.momentum == 0.9
    assert model.optimizer.clipnorm == 1.0
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


def test_digits_reach_095_within_30_epochs(digits):
    x_train, x_test, y_train, y_test = digits
    model = mlp(input_shape=(64,), hidden_units=[64, 32], outputs=10,
                batch_norm=True, dropout=0.2, l2=1e-4)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95


def test_regressor_fits_a_linear_target():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 3.0], "float32")
    model = regressor((4,), [32], learning_rate=1e-2)
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    after = model.evaluate(x, y, verbose=0)[0]
    assert model.get_layer("output").activation.__name__ == "linear"
    assert after < 0.05 * before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_units": []}, r"`hidden_units`: expected a non-empty list of positive integers. Received: hidden_units=\[\]"),
        ({"hidden_units": [8, 0]}, r"Received: hidden_units=\[8, 0\]"),
        ({"hidden_units": [8, -2]}, r"Received: hidden_units=\[8, -2\]"),
        ({"outputs": 0}, r"`outputs`: expected an integer >= 1. Received: outputs=0"),
        ({"dropout": 1.2}, r"`dropout`: expected a float in \[0, 1\). Received: dropout=1.2"),
        ({"dropout": [0.1, 0.2, 0.3]}, r"one rate per hidden layer \(2\).*Received: dropout=\[0.1, 0.2, 0.3\]"),
        ({"dropout": [0.1, 0.2], "dropout_placement": "last"}, r"Received: dropout=\[0.1, 0.2\], dropout_placement='last'"),
        ({"dropout_placement": "first"}, r"expected one of \['all', 'last'\]. Received: dropout_placement='first'"),
        ({"l1": -0.1}, r"Received: l1=-0.1"),
        ({"l2": -0.1}, r"Received: l2=-0.1"),
        ({"activation": "rlu"}, r"Received: activation='rlu'"),
        ({"output_activation": "swish"}, r"Received: output_activation='swish'"),
        ({"kernel_initializer": "xavier"}, r"Received: kernel_initializer='xavier'"),
        ({"input_shape": (0,)}, r"`input_shape`: expected a positive integer or a tuple of positive integers. Received: input_shape=\(0,\)"),
    ],
)
def test_bad_input(kwargs, message):
    arguments = {"input_shape": (4,), "hidden_units": [8, 8], "outputs": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        mlp(**arguments)


def test_pitfall_fan_in_of_an_image_input_is_its_flattened_size():
    # The first Dense layer sees 28 * 28 * 1 = 784 inputs, so the smallest fan-in is 32:
    # 0.2 * sqrt(32) = 1.13 is no tiny gain, while 0.01 * sqrt(32) = 0.057 is.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mlp((28, 28, 1), [32] * 5, 10, kernel_initializer=keras.initializers.RandomNormal(stddev=0.2))
    with pytest.warns(UserWarning, match=r"stddev \* sqrt\(fan_in\) = 0.0566"):
        mlp((28, 28, 1), [32] * 5, 10, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))


def test_a_list_of_activations_is_a_keras_style_error():
    with pytest.raises(
        ValueError, match=r"`activation`: expected one of \[.*'relu'.*\]. Received: activation=\['relu'\]"
    ):
        mlp((4,), [4], 2, activation=["relu"])


def test_softmax_over_one_output_is_refused():
    with pytest.raises(ValueError, match="softmax over one output is always 1.0.*Received: output_activation='softmax', outputs=1"):
        classifier((4,), [8], 1, output_activation="softmax")


def _hidden_kernels(model, count):
    return [model.get_layer(f"hidden_{i}_dense").kernel.numpy() for i in range(1, count + 1)]


def test_one_unseeded_initializer_instance_gives_every_layer_its_own_weights():
    model = mlp((32,), [32, 32, 32], 10, kernel_initializer=keras.initializers.HeNormal())
    first, second, third = _hidden_kernels(model, 3)
    assert not np.array_equal(first, second) and not np.array_equal(second, third)
    for kernel in (first, second, third):  # each still He: std sqrt(2 / 32)
        assert abs(kernel.std() - np.sqrt(2 / 32)) < 0.05


def test_a_seeded_initializer_instance_gives_seed_plus_layer_index():
    def build():
        return mlp((32,), [32, 32, 32], 10,
                   kernel_initializer=keras.initializers.GlorotUniform(seed=5))

    kernels = _hidden_kernels(build(), 3)
    for offset, kernel in enumerate(kernels):
        expected = keras.initializers.GlorotUniform(seed=5 + offset)((32, 32))
        np.testing.assert_array_equal(kernel, keras.ops.convert_to_numpy(expected))
    # Reproducible: a second build gives the same weights.
    for kernel, again in zip(kernels, _hidden_kernels(build(), 3)):
        np.testing.assert_array_equal(kernel, again)


@pytest.mark.parametrize("recipe", [classifier, regressor])
@pytest.mark.parametrize(
    "kwargs",
    [{"learning_rate": 0.5}, {"optimizer_kwargs": {"clipnorm": 1.0}},
     {"learning_rate": 1e-3, "optimizer_kwargs": {}}],
)
def test_an_optimizer_instance_with_learning_rate_or_kwargs_is_refused(recipe, kwargs):
    with pytest.raises(
        ValueError,
        match=r"configure a named optimizer; expected them unset with an optimizer instance "
        r".* Received: optimizer=<.*SGD.*>, learning_rate=",
    ):
        recipe((4,), [8], 3, optimizer=keras.optimizers.SGD(), **kwargs)


@pytest.mark.parametrize("recipe", [classifier, regressor])
def test_an_optimizer_instance_alone_and_the_default_learning_rate(recipe):
    instance = keras.optimizers.SGD(0.25, clipnorm=2.0)
    model = recipe((4,), [8], 3, optimizer=instance)
    assert model.optimizer is instance
    assert float(model.optimizer.learning_rate) == pytest.approx(0.25)
    # A named optimizer without `learning_rate` still gets the recipe's 1e-3.
    named = recipe((4,), [8], 3, optimizer="rmsprop")
    assert isinstance(named.optimizer, keras.optimizers.RMSprop)
    assert float(named.optimizer.learning_rate) == pytest.approx(1e-3)
