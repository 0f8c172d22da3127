import keras
import numpy as np
import pytest

from keras_recipes.recipes import RAdam


def _reference_radam(theta, gradients, lr, beta_1, beta_2, epsilon):
    """Algorithm 2 of Liu et al. (2019), in float64, with epsilon added to sqrt(v_hat)."""
    theta = np.array(theta, dtype="float64")
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    rho_inf = 2.0 / (1.0 - beta_2) - 1.0
    thetas, rectified = [], []
    for t, g in enumerate(gradients, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        rho_t = rho_inf - 2 * t * beta_2**t / (1 - beta_2**t)
        if rho_t > 4:
            v_hat = v / (1 - beta_2**t)
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            theta = theta - lr * r_t * m_hat / (np.sqrt(v_hat) + epsilon)
        else:
            theta = theta - lr * m_hat
        thetas.append(theta.copy())
        rectified.append(rho_t > 4)
    return thetas, rectified


@pytest.mark.parametrize("beta_2", [0.999, 0.99])
def test_matches_numpy_reference_step_by_step(beta_2):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4)) + 2.0
    gradients = [rng.normal(size=(3, 4)) for _ in range(25)]
    lr, beta_1, epsilon = 0.01, 0.9, 1e-7
    expected, rectified = _reference_radam(start, gradients, lr, beta_1, beta_2, epsilon)
    # The run must cover both regimes: momentum steps first, rectified steps later.
    assert rectified[:4] == [False] * 4 and all(rectified[5:])

    variable = keras.Variable(start.astype("float32"))
    optimizer = RAdam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    for step, gradient in enumerate(gradients):
        optimizer.apply_gradients([(gradient.astype("float32"), variable)])
        np.testing.assert_allclose(
            variable.numpy(), expected[step], rtol=1e-5, atol=1e-6,
            err_msg=f"step {step + 1}",
        )


def test_first_steps_are_momentum_steps():
    variable = keras.Variable(np.zeros(2, dtype="float32"))
    optimizer = RAdam(learning_rate=0.1)
    optimizer.apply_gradients([(np.array([1.0, -2.0], "float32"), variable)])
    # Step 1: m_hat equals the gradient, the adaptive term is off: theta = -lr * g.
    np.testing.assert_allclose(variable.numpy(), [-0.1, 0.2], rtol=1e-6)


def test_trains_a_small_model():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1)) + 0.5).astype("float32")
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=RAdam(learning_rate=0.05), loss="mse")
    losses = model.fit(x, y, epochs=10, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))


def test_get_config_round_trip():
    optimizer = RAdam(
        learning_rate=0.005, beta_1=0.8, beta_2=0.99, epsilon=1e-6,
        clipnorm=1.0, weight_decay=1e-4, use_ema=True, name="my_radam",
    )
    config = optimizer.get_config()
    restored = RAdam.from_config(config)
    assert restored.get_config() == config
    assert (config["beta_1"], config["beta_2"], config["epsilon"]) == (0.8, 0.99, 1e-6)
    assert config["clipnorm"] == 1.0 and config["use_ema"] and config["name"] == "my_radam"
    serialized = keras.optimizers.serialize(optimizer)
    assert serialized["registered_name"] == "keras_recipes>RAdam"
    assert isinstance(keras.optimizers.deserialize(serialized), RAdam)


def test_save_and_load_compiled_model(tmp_path):
    x = np.random.default_rng(2).normal(size=(32, 3)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=RAdam(learning_rate=0.02, beta_2=0.99), loss="mse")
    model.fit(x, x[:, :2], epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer, RAdam)
    assert loaded.optimizer.beta_2 == 0.99
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    # Training resumes identically from the restored optimizer state.
    model.fit(x, x[:, :2], epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, x[:, :2], epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"beta_1": 1.0}, "beta_1"), ({"beta_2": -0.1}, "beta_2"), ({"epsilon": -1.0}, "epsilon")],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"Received: {name}="):
        RAdam(**kwargs)


@pytest.mark.parametrize("learning_rate", ["fast", None, True, -0.1])
def test_learning_rate_must_be_a_number_or_a_callable(learning_rate):
    with pytest.raises(
        ValueError,
        match=r"`learning_rate`: expected a number > 0, a `keras\.optimizers\.schedules\."
        rf"LearningRateSchedule` or a callable\. Received: learning_rate={learning_rate!r}",
    ):
        RAdam(learning_rate=learning_rate)


def test_first_rectified_steps_match_float64():
    # r_t hangs on rho_t - 4, a difference of numbers near 2000 at step 5:
    # computed in float32 it was 2% off. Unit gradients: m_hat = v_hat = 1,
    # so with lr = 1 each rectified step moves the weight by r_t.
    variable = keras.Variable(np.zeros(1, dtype="float32"))
    optimizer = RAdam(learning_rate=1.0)
    before = 0.0
    for t in range(1, 7):
        optimizer.apply_gradients([(np.ones(1, "float32"), variable)])
        after = float(variable.numpy()[0])
        if t >= 5:
            rho_inf = 2.0 / (1.0 - 0.999) - 1.0
            rho_t = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
            r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            assert before - after == pytest.approx(r_t, rel=2e-5), t
        before = after
