import math

import keras
import numpy as np
import pytest

from keras_recipes.tuning import check_initial_loss, overfit_small_batch


def _mlp(loss="sparse_categorical_crossentropy", outputs=10, activation="softmax",
         last_init="glorot_uniform", l2=0.0):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                           kernel_regularizer=keras.regularizers.L2(l2) if l2 else None),
        keras.layers.Dense(outputs, activation=activation, kernel_initializer=last_init),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    return model


def test_initial_loss_at_chance_for_softmax(digits):
    x, _, y, _ = digits
    check = check_initial_loss(_mlp(l2=1e-2), x[:256], y[:256])
    assert check.chance_loss == pytest.approx(math.log(10))
    assert check.verdict == "as_expected"
    assert 0.8 < check.ratio < 1.25
    # L2 is reported apart from the data loss.
    assert check.regularization_loss > 0.01
    assert "chance 2.3026" in str(check)


def test_initial_loss_too_high_with_large_last_layer(digits):
    x, _, y, _ = digits
    big = keras.initializers.RandomNormal(stddev=5.0)
    check = check_initial_loss(_mlp(last_init=big), x[:256], y[:256])
    assert check.verdict == "too_high"
    assert check.ratio > 2.0


def test_initial_loss_binary_and_trained(digits):
    x, _, y, _ = digits
    yb = (y % 2).astype("float32")
    model = _mlp(loss="binary_crossentropy", outputs=1, activation="sigmoid")
    before = check_initial_loss(model, x[:256], yb[:256])
    assert before.chance_loss == pytest.approx(math.log(2))
    model.fit(x, yb, epochs=5, verbose=0)
    after = check_initial_loss(model, x[:256], yb[:256])
    assert after.verdict == "below_chance"
    assert after.data_loss < 0.5 * before.data_loss


def test_initial_loss_regression_uses_mean_prediction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0]) + 10.0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    check = check_initial_loss(model, x, y)
    assert check.chance_loss == pytest.approx(float(np.var(y)), rel=1e-4)


def test_initial_loss_needs_compiled_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="needs a compiled model"):
        check_initial_loss(model, np.zeros((4, 4)), np.zeros(4))


def test_initial_loss_rejects_length_mismatch():
    with pytest.raises(ValueError, match="same, non-zero number of rows"):
        check_initial_loss(_mlp(), np.zeros((4, 64)), np.zeros(3))


def test_overfit_small_batch_memorizes_and_leaves_model_untouched(digits):
    x, _, y, _ = digits
    model = _mlp()
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    weights = [w.copy() for w in model.get_weights()]
    optimizer_state = [v.numpy().copy() for v in model.optimizer.variables]
    result = overfit_small_batch(model, x, y, n=32, epochs=200)
    assert result.reached
    assert result.final_accuracy >= 0.99
    assert 1 <= result.epochs_to_target < 200
    assert len(result.history) == result.epochs_to_target
    assert result.final_loss < 0.3 * result.initial_loss
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    for before, variable in zip(optimizer_state, model.optimizer.variables):
        np.testing.assert_array_equal(before, variable.numpy())
    assert "memorized the sample in" in str(result)


def test_overfit_small_batch_reports_failure_with_tiny_learning_rate(digits):
    x, _, y, _ = digits
    model = _mlp()
    model.compile(optimizer=keras.optimizers.SGD(1e-6), loss="sparse_categorical_crossentropy")
    result = overfit_small_batch(model, x, y, n=32, epochs=20)
    assert not result.reached
    assert result.epochs_to_target is None
    assert result.final_accuracy < 0.5
    assert len(result.history) == 20
    assert "did NOT memorize" in str(result)


def test_overfit_small_batch_rejects_bad_n(digits):
    x, _, y, _ = digits
    with pytest.raises(ValueError, match="Received: n=0"):
        overfit_small_batch(_mlp(), x, y, n=0)
