"""The doctor on activations other than ReLU and sigmoid/tanh (real training)."""

import warnings

import keras
import numpy as np

from keras_recipes.callbacks import TrainingDoctor


def _fit(digits, hidden, optimizer, epochs=5, n=320, every=2):
    x, _, y, _ = digits
    model = keras.Sequential([keras.Input((64,)), *hidden, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(every_n_batches=every, y=y[:n])
    model.fit(x[:n], y[:n], epochs=epochs, batch_size=32, verbose=0, callbacks=[doctor])
    return doctor


def test_gelu_layer_on_its_flat_tail_is_dead_not_a_low_learning_rate(digits):
    # Bias -8: gelu(-8 + small) ~ -1e-15 with a slope ~1e-14; SGD cannot move anything.
    dense = keras.layers.Dense
    doctor = _fit(digits, [
        dense(32, activation="gelu", kernel_initializer="he_normal"),
        dense(32, activation="gelu", kernel_initializer="he_normal", name="pushed",
              bias_initializer=keras.initializers.Constant(-8.0)),
    ], keras.optimizers.SGD(0.1))
    kinds = [finding.kind for finding in doctor.findings]
    assert kinds == ["dead_relu"]
    dead = doctor.findings[0]
    assert dead.layer == "pushed" and dead.evidence["activation"] == "gelu"
    assert dead.evidence["median_dead_fraction"] == 1.0
    assert "gelu's flat negative tail" in dead.advice and "bias" in dead.advice
    assert "raise the learning rate" not in dead.advice.lower()


def _elu_behind_bias(digits, alpha, bias):
    dense = keras.layers.Dense
    return _fit(digits, [
        dense(32, activation="elu", kernel_initializer="he_normal"),
        dense(32, kernel_initializer="he_normal", bias_initializer=keras.initializers.Constant(bias)),
        keras.layers.ELU(alpha=alpha, name="pushed"),
    ], keras.optimizers.SGD(0.1))


def test_elu_flat_tail_follows_the_layers_alpha(digits):
    # alpha 0.5: the tail is -0.5, flat (slope y + 0.5 < 0.01) below -0.49;
    # bias -8 puts every output at about -0.4998. alpha 1's band (<= -0.99)
    # is never reached.
    doctor = _elu_behind_bias(digits, 0.5, -8.0)
    [dead] = doctor.findings
    assert dead.kind == "dead_relu" and dead.layer == "pushed"
    assert dead.evidence["activation"] == "elu(alpha=0.5)"
    assert dead.evidence["median_dead_fraction"] == 1.0
    assert "outputs below -0.49, from pre-activations below about -3.91" in dead.advice


def test_elu_with_a_large_alpha_is_dead_only_on_its_own_tail(digits):
    # alpha 3: flat below -2.99 (pre-activations below ln(0.01 / 3) = -5.7).
    pushed = _elu_behind_bias(digits, 3.0, -8.0)
    [dead] = [f for f in pushed.findings if f.kind == "dead_relu"]
    assert dead.evidence["activation"] == "elu(alpha=3)"
    assert "outputs below -2.99, from pre-activations below about -5.7" in dead.advice
    # Bias -3: outputs down to -2.8 (below alpha 1's -0.99 for most units),
    # but a slope of 3 exp(-3) = 0.15 there: alive, and learning.
    alive = _elu_behind_bias(digits, 3.0, -3.0)
    table = alive.activation_stats.to_dataframe()
    assert table.loc[table["layer"] == "pushed", "dead_fraction"].max() == 0.0
    assert "dead_relu" not in [finding.kind for finding in alive.findings]


def test_vanishing_advice_names_silu_and_the_tiny_initialization(digits):
    # 8 SiLU layers at N(0, 0.01^2): each layer shrinks the signal ~25x.
    init = keras.initializers.RandomNormal(0.0, 0.01)
    doctor = _fit(digits, [keras.layers.Dense(32, activation="silu", kernel_initializer=init)
                           for _ in range(8)], keras.optimizers.SGD(0.05))
    kinds = [finding.kind for finding in doctor.findings]
    # Units near 0 from a collapsed signal are not on the flat tail: no dead_relu.
    assert kinds == ["vanishing_gradient"]
    vanishing = doctor.findings[0]
    assert vanishing.evidence["start_std_shrink"] < 1e-6
    assert vanishing.evidence["start_std_first_hidden"] > 1e-3
    assert "silu" in vanishing.advice and "initialization is far too small" in vanishing.advice
    assert "sigmoid/tanh" not in vanishing.advice


def test_overflowing_gradients_leak_no_numpy_warning(digits):
    # SGD 3 with momentum on 8 ReLU layers: the gradients overflow to inf
    # (the doctor's growth too) by step 3, where training stops.
    dense = keras.layers.Dense
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doctor = _fit(digits, [dense(64, activation="relu", kernel_initializer="he_normal")
                               for _ in range(8)], keras.optimizers.SGD(3.0, momentum=0.9), every=1)
    exploding = [f for f in doctor.findings if f.kind == "exploding_gradient"]
    assert exploding and np.isinf(exploding[0].evidence["growth"])
    # NumPy's floating-point warnings ("overflow encountered in divide"), not
    # the GradientMonitor's own warning about the non-finite gradients.
    ours = [w for w in caught if issubclass(w.category, RuntimeWarning)
            and "keras_recipes" in w.filename and "encountered in" in str(w.message)]
    assert ours == [], [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
