import math

import keras
import numpy as np
import pytest

from keras_recipes.tuning import _model_parts
from keras_recipes.tuning import check_initial_loss, find_learning_rate, overfit_small_batch


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
    # Targets around 10: the untrained outputs (near 0) are far off. The
    # advice is about the targets' scale, not softmax or `from_logits`.
    assert check.verdict == "too_high"
    assert "Standardize the targets" in check.message and "from_logits" not in check.message


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


@pytest.mark.parametrize(
    "loss",
    [
        "SparseCategoricalCrossentropy",
        keras.losses.SparseCategoricalCrossentropy(name="xent"),
        keras.losses.sparse_categorical_crossentropy,
    ],
    ids=["class-name", "custom-name", "function"],
)
def test_initial_loss_recognizes_the_loss_by_its_class(digits, loss):
    x, _, y, _ = digits
    check = check_initial_loss(_mlp(loss=loss), x[:256], y[:256])
    assert check.chance_loss == pytest.approx(math.log(10))
    assert check.verdict == "as_expected"


@pytest.mark.parametrize(
    "loss, kind",
    [
        ("sparse_categorical_crossentropy", "categorical"),
        ("CategoricalCrossentropy", "categorical"),
        ("bce", "binary"),
        (keras.losses.BinaryCrossentropy(name="bits"), "binary"),
        (keras.losses.CategoricalCrossentropy(from_logits=True, name="ce"), "categorical"),
        (keras.losses.MeanSquaredError(name="binary_crossentropy"), None),
        ("MeanSquaredError", None),
    ],
)
def test_classification_kind_follows_the_loss_not_its_name(loss, kind):
    outputs, activation = (1, "sigmoid") if kind == "binary" else (10, "softmax")
    assert _model_parts.classification_kind(_mlp(loss, outputs, activation)) == kind


def test_guideline_helpers_refuse_a_dataset_with_a_clear_error(digits):
    import tensorflow as tf

    x, _, y, _ = digits
    dataset = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(32)
    for helper in (check_initial_loss, overfit_small_batch, find_learning_rate):
        with pytest.raises(ValueError, match=r"not a `tf.data.Dataset`.*Received: x=<_BatchDataset>, y=None"):
            helper(_mlp(), dataset, None)


@pytest.mark.parametrize("target_accuracy", [1.5, 0.0, -0.1, float("nan"), True])
def test_overfit_small_batch_rejects_a_target_accuracy_outside_0_1(digits, target_accuracy):
    x, _, y, _ = digits
    with pytest.raises(ValueError, match=r"`target_accuracy`: expected a number in \(0, 1\]\. "
                                         rf"Received: target_accuracy={target_accuracy!r}"):
        overfit_small_batch(_mlp(), x, y, n=8, epochs=2, target_accuracy=target_accuracy)
    with pytest.raises(ValueError, match="Received: seed='a'"):
        overfit_small_batch(_mlp(), x, y, n=8, epochs=2, seed="a")
