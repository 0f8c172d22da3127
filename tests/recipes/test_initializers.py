import keras
import pytest

from keras_recipes.recipes import INITIALIZER_FOR_ACTIVATION, initializer_for, mlp


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("relu", "he_normal"), ("leaky_relu", "he_normal"), ("relu6", "he_normal"),
        ("elu", "he_normal"), ("gelu", "he_normal"), ("silu", "he_normal"),
        ("swish", "he_normal"), ("tanh", "glorot_normal"), ("sigmoid", "glorot_normal"),
        ("softmax", "glorot_normal"), ("linear", "glorot_normal"), (None, "glorot_normal"),
        ("selu", "lecun_normal"),
    ],
)
def test_rule_table(activation, expected):
    assert initializer_for(activation) == expected


def test_every_table_entry_is_a_keras_activation_and_initializer():
    for activation, initializer in INITIALIZER_FOR_ACTIVATION.items():
        keras.activations.get(activation)
        keras.initializers.get(initializer)


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"expected one of \[.*'relu'.*\]. Received: activation='rleu'"):
        initializer_for("rleu")


@pytest.mark.parametrize(
    "activation, initializer_class",
    [
        ("relu", keras.initializers.HeNormal),
        ("tanh", keras.initializers.GlorotNormal),
        ("selu", keras.initializers.LecunNormal),
    ],
)
def test_auto_initializer_is_applied_to_built_layers(activation, initializer_class):
    model = mlp((16,), [8, 8], 3, activation=activation)
    for i in (1, 2):
        dense = model.get_layer(f"hidden_{i}_dense")
        assert isinstance(dense.kernel_initializer, initializer_class)
    # The softmax output follows the table too.
    assert isinstance(model.get_layer("output").kernel_initializer, keras.initializers.GlorotNormal)


def test_explicit_initializer_always_wins():
    init = keras.initializers.RandomUniform(-0.1, 0.1)
    model = mlp((16,), [8], 3, activation="relu", kernel_initializer=init)
    assert isinstance(model.get_layer("hidden_1_dense").kernel_initializer, keras.initializers.RandomUniform)
    model = mlp((16,), [8], 3, activation="relu", kernel_initializer="glorot_uniform")
    assert isinstance(model.get_layer("hidden_1_dense").kernel_initializer, keras.initializers.GlorotUniform)


def test_he_initializer_keeps_the_relu_activation_scale():
    # Seed 003: He keeps the std of ReLU activations from collapsing layer by layer.
    model = mlp((512,), [512] * 6, 2, activation="relu")
    x = keras.random.normal((64, 512), seed=0)
    probe = keras.Model(model.input, [model.get_layer(f"hidden_{i}_relu").output for i in range(1, 7)])
    stds = [float(keras.ops.std(a)) for a in probe(x)]
    assert stds[-1] > 0.5 * stds[0]
