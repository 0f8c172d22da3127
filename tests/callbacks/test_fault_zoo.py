"""The fault zoo: small training runs with a known diagnosis.

Each buggy case must yield its expected finding kind; each healthy case must
yield no finding at all. `python tests/callbacks/test_fault_zoo.py` prints the
zoo's table (case, expected, found).
"""

import functools

import keras
import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from keras_recipes.callbacks import TrainingDoctor

layers = keras.layers


# ---------------------------------------------------------------- data
@functools.lru_cache(maxsize=None)
def _digits():
    """600 training and 200 validation digits (8x8, scaled to [0, 1])."""
    data = datasets.load_digits()
    x = (data.data / 16.0).astype("float32")
    return train_test_split(x, data.target, train_size=600, test_size=200, random_state=0,
                            stratify=data.target)


@functools.lru_cache(maxsize=None)
def _tabular(name):
    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "iris": datasets.load_iris}[name]
    data = loader()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train).astype("float32"), scaler.transform(x_val).astype("float32"),
            y_train, y_val)


def _imbalanced(n_train=600, n_val=200, positives=0.1, noise=1.0):
    """8 features, exactly 10% positive labels in both splits: the top tenth
    of x0 + x1 + `noise` * normal noise."""
    rng = np.random.default_rng(0)
    splits = []
    for n in (n_train, n_val):
        x = rng.normal(size=(n, 8)).astype("float32")
        score = x[:, 0] + x[:, 1] + noise * rng.normal(size=n)
        splits.append((x, (score > np.quantile(score, 1 - positives)).astype("float32")))
    (x, y), (xv, yv) = splits
    return x, xv, y, yv


def _regression(noise=0.1, scale=1.0, n=512):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32") * scale
    y = np.sin(x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] + noise * rng.normal(size=n)
    return x, y.astype("float32")


# ---------------------------------------------------------------- models
def _mlp(inputs, hidden, activation, outputs=10, init="glorot_uniform", bias="zeros",
         batch_norm=False, dropout=0.0, out_activation="softmax"):
    model = keras.Sequential([keras.Input((inputs,))])
    for units in hidden:
        if batch_norm:
            model.add(layers.Dense(units, use_bias=False, kernel_initializer=init))
            model.add(layers.BatchNormalization())
            model.add(layers.Activation(activation))
        else:
            model.add(layers.Dense(units, activation=activation, kernel_initializer=init,
                                   bias_initializer=bias))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(outputs, activation=out_activation))
    return model


def _fit(model, optimizer, loss, x, y, epochs, batch_size, validation=None, every=2, targets=None):
    model.compile(optimizer=optimizer, loss=loss)
    doctor = TrainingDoctor(every_n_batches=every, stop_on=(), y=targets)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation,
              verbose=0, callbacks=[doctor])
    return doctor


SCCE = "sparse_categorical_crossentropy"


# ---------------------------------------------------------------- buggy cases
def vanishing_deep_sigmoid():
    x, _, y, _ = _digits()
    model = _mlp(64, [32] * 6, "sigmoid", init=keras.initializers.RandomNormal(stddev=0.05))
    return _fit(model, keras.optimizers.SGD(0.1), SCCE, x, y, 6, 32)


def exploding_large_learning_rate():
    x, y = _regression(scale=3.0, n=256)
    model = _mlp(8, [32, 32], "relu", outputs=1, init="he_normal", out_activation=None)
    return _fit(model, keras.optimizers.SGD(0.05), "mse", x, y, 4, 16)


def dead_relu_negative_bias():
    x, _, y, _ = _digits()
    model = _mlp(64, [32, 32], "relu", init="he_normal", bias=keras.initializers.Constant(-3.0))
    return _fit(model, keras.optimizers.Adam(1e-3), SCCE, x, y, 5, 32)


class _ReluBlock(layers.Layer):
    """Dense, then a ReLU applied in `call`: the activation monitor cannot see it."""

    def __init__(self, units, bias, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, bias_initializer=keras.initializers.Constant(bias))

    def call(self, inputs):
        return keras.ops.relu(self.dense(inputs))


def zero_gradient_relu_inside_custom_layer():
    # Bias -10 kills every unit of the first block: no gradient reaches any
    # kernel and nothing moves. Not a learning rate too low; the Dense
    # sublayer's outputs (all below 0) tell the dead units.
    x, _, y, _ = _digits()
    model = keras.Sequential([keras.Input((64,)), _ReluBlock(32, -10.0), _ReluBlock(32, 0.0),
                              layers.Dense(10, activation="softmax")])
    return _fit(model, keras.optimizers.Adam(1e-3), SCCE, x, y, 4, 32)


def saturated_tanh_large_init():
    x, _, y, _ = _digits()
    model = _mlp(64, [32, 32], "tanh", init=keras.initializers.RandomNormal(stddev=3.0))
    return _fit(model, keras.optimizers.SGD(0.01), SCCE, x, y, 5, 32)


def thrown_off_huge_learning_rate():
    # The first steps throw the loss hundreds of times above chance, where it
    # stays: neither diverging nor NaN, only far too big steps.
    x, _, y, _ = _digits()
    model = _mlp(64, [64, 64], "tanh", init="glorot_normal")
    return _fit(model, keras.optimizers.SGD(50.0), SCCE, x, y, 4, 32)


def units_killed_by_adam_at_three():
    # Huge first steps kill the ReLUs; afterwards nothing moves, so the
    # learning rate shows only in the updates up to the worst epoch.
    x, xv, y, yv = _digits()
    model = _mlp(64, [64, 64], "relu", init="he_normal")
    return _fit(model, keras.optimizers.Adam(3.0), SCCE, x, y, 6, 32, (xv, yv), every=5)


def units_killed_by_plain_sgd_at_five():
    # The first step moves the convolutions by 0.29 of their norm, and every
    # ReLU is dead by the second record: the loss stays at chance, yet no
    # epoch is far above it and nothing moves once the units are dead.
    x, xv, y, yv = _digits()
    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])
    return _fit(model, keras.optimizers.SGD(5.0), SCCE, x.reshape(-1, 8, 8, 1), y, 4, 32,
                (xv.reshape(-1, 8, 8, 1), yv))


def not_decreasing_tiny_learning_rate():
    x, _, y, _ = _digits()
    model = _mlp(64, [32], "relu", init="he_normal")
    return _fit(model, keras.optimizers.SGD(1e-5), SCCE, x, y, 4, 32)


def learning_rate_decayed_to_nothing():
    # The schedule divides the rate by 10 every 10 steps: after the first
    # epoch no weight moves, and the loss stalls far above chance's half.
    x, xv, y, yv = _digits()
    model = _mlp(64, [32], "relu", init="he_normal")
    schedule = keras.optimizers.schedules.ExponentialDecay(3e-3, decay_steps=10, decay_rate=0.1)
    return _fit(model, keras.optimizers.Adam(schedule), SCCE, x, y, 8, 32, (xv, yv))


def oscillating_batch_one_momentum():
    x, xv, y, yv = _tabular("iris")
    model = _mlp(4, [16], "relu", outputs=3, init="he_normal")
    optimizer = keras.optimizers.SGD(0.01, momentum=0.99)
    return _fit(model, optimizer, SCCE, x, y, 12, 1, (xv, yv), every=10)


def overfitting_big_net_tiny_data():
    x, xv, y, yv = _digits()
    model = _mlp(64, [256, 256], "relu", init="he_normal")
    return _fit(model, keras.optimizers.Adam(3e-3), SCCE, x[:30], y[:30], 20, 30, (xv[:200], yv[:200]))


def underfitting_one_unit_bottleneck():
    x, xv, y, yv = _digits()
    model = _mlp(64, [1], None)
    return _fit(model, keras.optimizers.Adam(0.05), SCCE, x, y, 15, 32, (xv, yv))


def underfitting_l2_too_strong():
    # L2 = 0.1 on every kernel: the penalty shrinks the weights to almost
    # nothing, the loss settles at chance and half the ReLUs die on the way
    # (their weights are gone, not their initialization).
    x, xv, y, yv = _digits()
    l2 = keras.regularizers.L2(0.1)
    model = keras.Sequential([keras.Input((64,))] + [
        layers.Dense(64, activation="relu", kernel_initializer="he_normal", kernel_regularizer=l2)
        for _ in range(2)] + [layers.Dense(10, activation="softmax", kernel_regularizer=l2)])
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x, y, 10, 32, (xv, yv))


def underfitting_regression_l2_too_strong():
    # L2 = 1.0: the model ends up predicting the mean (loss = the targets'
    # variance). Measured against the starting loss (penalty included, 14x
    # the variance) that looked like progress; the targets give the chance level.
    x, y = _regression(noise=0.1)
    l2 = keras.regularizers.L2(1.0)
    model = keras.Sequential([
        keras.Input((8,)),
        layers.Dense(16, activation="relu", kernel_initializer="he_normal", kernel_regularizer=l2),
        layers.Dense(1, kernel_regularizer=l2)])
    return _fit(model, keras.optimizers.Adam(3e-2), "mse", x[:384], y[:384], 10, 32,
                (x[384:], y[384:]), targets=y[:384])


def overfitting_shuffled_labels():
    # Labels that do not match the inputs: the training loss falls to 0.87
    # of chance, the validation loss never leaves it (its rise stays under
    # the 10% the rise rule needs, with dropout 0.5).
    x, xv, y, yv = _digits()
    y = np.random.default_rng(0).permutation(y)
    model = _mlp(64, [256], "relu", init="he_normal", dropout=0.5)
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x, y, 12, 64, (xv, yv))


def underfitting_dropout_0_9():
    # Dropout 0.9 keeps the training loss above chance (falling from 2.9x
    # it), the validation loss stays at chance: nothing is learned.
    x, xv, y, yv = _digits()
    model = _mlp(64, [64, 32], "relu", init="he_normal", dropout=0.9)
    return _fit(model, keras.optimizers.Adam(1e-3), SCCE, x, y, 10, 32, (xv, yv))


def invalid_loss_binary_labels_0_2():
    # Labels {0, 2} for a binary cross-entropy: the loss falls below 0 and
    # keeps falling, which read as "still improving".
    x, xv, y, yv = _tabular("breast_cancer")
    model = _mlp(30, [16], "tanh", outputs=1, out_activation="sigmoid")
    return _fit(model, keras.optimizers.Adam(1e-2), "binary_crossentropy", x, 2.0 * y, 6, 32,
                (xv, 2.0 * yv))


# ---------------------------------------------------------------- healthy cases
def healthy_digits_relu_adam():
    x, xv, y, yv = _digits()
    model = _mlp(64, [64, 32], "relu", init="he_normal")
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x, y, 12, 32, (xv, yv))


def healthy_digits_batch_norm_sgd_momentum():
    x, _, y, _ = _digits()
    model = _mlp(64, [64, 64], "relu", init="he_normal", batch_norm=True)
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    return _fit(model, optimizer, SCCE, x, y, 8, 32)


def healthy_digits_dropout_rmsprop():
    x, xv, y, yv = _digits()
    model = _mlp(64, [128], "relu", init="he_normal", dropout=0.3)
    return _fit(model, keras.optimizers.RMSprop(1e-2), SCCE, x, y, 10, 32, (xv, yv))


def healthy_deep_relu_batch_norm():
    x, _, y, _ = _digits()
    model = _mlp(64, [32] * 4, "relu", init="he_normal", batch_norm=True)
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x, y, 14, 32)


def healthy_breast_cancer_tanh_binary():
    x, xv, y, yv = _tabular("breast_cancer")
    model = _mlp(30, [16], "tanh", outputs=1, out_activation="sigmoid")
    return _fit(model, keras.optimizers.Adam(1e-2), "binary_crossentropy", x, y, 8, 32, (xv, yv))


def healthy_wine_sigmoid_sgd():
    x, xv, y, yv = _tabular("wine")
    model = _mlp(13, [16], "sigmoid", outputs=3)
    return _fit(model, keras.optimizers.SGD(1.0), SCCE, x, y, 10, 16, (xv, yv))


def healthy_iris_elu_nadam():
    x, xv, y, yv = _tabular("iris")
    model = _mlp(4, [16, 16], "elu", outputs=3, init="he_normal")
    return _fit(model, keras.optimizers.Nadam(3e-2), SCCE, x, y, 10, 16, (xv, yv))


def healthy_cnn_digits():
    x, xv, y, yv = _digits()
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x.reshape(-1, 8, 8, 1), y, 12, 32,
                (xv.reshape(-1, 8, 8, 1), yv))


def healthy_gru_digit_rows():
    x, _, y, _ = _digits()
    model = keras.Sequential([
        keras.Input((8, 8)), layers.GRU(16), layers.Dense(10, activation="softmax"),
    ])
    return _fit(model, keras.optimizers.Adam(2e-2), SCCE, x.reshape(-1, 8, 8), y, 16, 32)


def healthy_regression_mse_adam():
    # With the targets: measured against their variance, not the start.
    x, y = _regression(noise=0.1)
    model = _mlp(8, [32, 32], "relu", outputs=1, init="he_normal", out_activation=None)
    return _fit(model, keras.optimizers.Adam(1e-2), "mse", x[:384], y[:384], 16, 32,
                (x[384:], y[384:]), targets=y[:384])


def healthy_imbalanced_binary():
    # 90/10 labels that can be learned (with label noise): measured against
    # the prior's entropy (0.325), the validation loss ends at 0.58 of it.
    x, xv, y, yv = _imbalanced(n_train=1200)
    model = _mlp(8, [16], "relu", outputs=1, init="he_normal", out_activation="sigmoid")
    return _fit(model, keras.optimizers.Adam(2e-2), "binary_crossentropy", x, y, 6, 32, (xv, yv),
                targets=y)


def healthy_noisy_labels_digits():
    # Half the labels random: the loss stays high, but the model learns.
    x, xv, y, yv = _digits()
    rng = np.random.default_rng(0)
    y, noisy = y.copy(), rng.random(len(y)) < 0.5
    y[noisy] = rng.integers(0, 10, noisy.sum())
    model = _mlp(64, [64, 32], "relu", init="he_normal")
    return _fit(model, keras.optimizers.Adam(1e-2), SCCE, x, y, 12, 32, (xv, yv), targets=y)


def healthy_functional_residual_adamw():
    x, xv, y, yv = _digits()
    inputs = keras.Input((64,))
    hidden = layers.Dense(32, activation="relu", kernel_initializer="he_normal")(inputs)
    branch = layers.Dense(32, activation="relu", kernel_initializer="he_normal")(hidden)
    hidden = layers.Add()([hidden, branch])
    outputs = layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    return _fit(model, keras.optimizers.AdamW(1e-2, weight_decay=1e-3), SCCE, x, y, 12, 32,
                (xv, yv))


def healthy_no_validation_logits():
    x, _, y, _ = _digits()
    model = _mlp(64, [32], "relu", init="he_normal", out_activation=None)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return _fit(model, keras.optimizers.Adam(1e-2), loss, x, y, 12, 32)


BUGGY = {
    "vanishing_deep_sigmoid": (vanishing_deep_sigmoid, "vanishing_gradient"),
    "exploding_large_learning_rate": (exploding_large_learning_rate,
                                      ("exploding_gradient", "non_finite")),
    "dead_relu_negative_bias": (dead_relu_negative_bias, "dead_relu"),
    # The Dense feeding the ReLU outputs only negatives: dead units, not a cut path.
    "zero_gradient_relu_inside_custom_layer": (zero_gradient_relu_inside_custom_layer, "dead_relu"),
    "saturated_tanh_large_init": (saturated_tanh_large_init, "saturated_activation"),
    "not_decreasing_tiny_learning_rate": (not_decreasing_tiny_learning_rate, "loss_not_decreasing"),
    "learning_rate_decayed_to_nothing": (learning_rate_decayed_to_nothing, "learning_rate_too_low"),
    "thrown_off_huge_learning_rate": (thrown_off_huge_learning_rate, "learning_rate_too_high"),
    # The dead units are named in its evidence, as its consequence.
    "units_killed_by_adam_at_three": (units_killed_by_adam_at_three, "learning_rate_too_high"),
    "units_killed_by_plain_sgd_at_five": (units_killed_by_plain_sgd_at_five,
                                          "learning_rate_too_high"),
    "oscillating_batch_one_momentum": (oscillating_batch_one_momentum, "oscillating_loss"),
    "overfitting_big_net_tiny_data": (overfitting_big_net_tiny_data, "overfitting"),
    "underfitting_one_unit_bottleneck": (underfitting_one_unit_bottleneck, "underfitting"),
    "underfitting_l2_too_strong": (underfitting_l2_too_strong, "underfitting"),
    "underfitting_regression_l2_too_strong": (underfitting_regression_l2_too_strong, "underfitting"),
    "overfitting_shuffled_labels": (overfitting_shuffled_labels, "overfitting"),
    "underfitting_dropout_0_9": (underfitting_dropout_0_9, "underfitting"),
    "invalid_loss_binary_labels_0_2": (invalid_loss_binary_labels_0_2, "invalid_loss"),
}
HEALTHY = {case.__name__: case for case in (
    healthy_digits_relu_adam, healthy_digits_batch_norm_sgd_momentum,
    healthy_digits_dropout_rmsprop, healthy_deep_relu_batch_norm,
    healthy_breast_cancer_tanh_binary, healthy_wine_sigmoid_sgd, healthy_iris_elu_nadam,
    healthy_cnn_digits, healthy_gru_digit_rows, healthy_regression_mse_adam,
    healthy_functional_residual_adamw, healthy_no_validation_logits,
    healthy_imbalanced_binary, healthy_noisy_labels_digits,
)}


@pytest.mark.parametrize("name", sorted(BUGGY))
def test_buggy_case_yields_its_kind(name):
    case, expected = BUGGY[name]
    kinds = [finding.kind for finding in case().findings]
    expected = (expected,) if isinstance(expected, str) else expected
    assert set(expected) <= set(kinds), kinds


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_healthy_case_yields_no_finding(name):
    doctor = HEALTHY[name]()
    assert doctor.findings == [], doctor.report()


def _table_row(name):
    case, expected = BUGGY.get(name, (HEALTHY.get(name), "(none)"))
    doctor = case()
    found = ", ".join(f.kind + (f" ({f.layer})" if f.layer else "") for f in doctor.findings)
    expected = expected if isinstance(expected, str) else " + ".join(expected)
    return f"| {name} | {expected} | {found or '(none)'} |"


if __name__ == "__main__":
    import sys

    print("| case | expected | found |\n| --- | --- | --- |")
    for name in sys.argv[1:] or [*BUGGY, *HEALTHY]:
        keras.utils.set_random_seed(1234)
        print(_table_row(name), flush=True)
        keras.backend.clear_session()
