import math

import keras
import numpy as np
import pytest

from keras_recipes.recipes import (
    PCAWhitening,
    RAdam,
    SnapshotEnsemble,
    cyclic_cosine_learning_rate,
    with_weight_averaging,
)
from keras_recipes.recipes.snapshot_ensembles import is_snapshot_epoch


def _mlp(optimizer):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=-1) == y))


def test_cyclic_cosine_learning_rate_follows_huang_et_al():
    schedule = cyclic_cosine_learning_rate(0.2, steps_per_cycle=10)
    for step in [0, 3, 5, 9, 10, 13, 25]:
        expected = 0.2 / 2 * (math.cos(math.pi * (step % 10) / 10) + 1)
        assert float(schedule(step)) == pytest.approx(expected, abs=1e-6)


def test_is_snapshot_epoch():
    assert [e + 1 for e in range(9) if is_snapshot_epoch(e, every=3)] == [3, 6, 9]
    assert [e + 1 for e in range(9) if is_snapshot_epoch(e, epochs={2, 7})] == [2, 7]
    assert [e + 1 for e in range(6) if is_snapshot_epoch(e, every=4, epochs={1})] == [1, 4]


def test_snapshot_ensemble_on_digits(digits):
    x_train, x_test, y_train, y_test = digits
    steps_per_epoch = math.ceil(len(x_train) / 64)
    schedule = cyclic_cosine_learning_rate(0.2, steps_per_cycle=3 * steps_per_epoch)
    model = _mlp(keras.optimizers.SGD(schedule, momentum=0.9))
    snapshots = SnapshotEnsemble(every=3)
    model.fit(x_train, y_train, epochs=9, batch_size=64, callbacks=[snapshots], verbose=0)

    assert [epoch for epoch, _ in snapshots.snapshots] == [3, 6, 9]
    members = snapshots.members()
    for member, actual in zip(members[-1].get_weights(), model.get_weights()):
        np.testing.assert_array_equal(member, actual)  # the last snapshot is the final model
    member_accuracies = [_accuracy(m, x_test, y_test) for m in members]
    ensemble_accuracy = _accuracy(snapshots.ensemble(), x_test, y_test)
    assert ensemble_accuracy >= np.mean(member_accuracies)
    assert ensemble_accuracy > 0.9


def test_snapshots_reset_when_the_callback_is_reused():
    model = _mlp("adam")
    x = np.random.default_rng(0).random((32, 64)).astype("float32")
    y = np.arange(32) % 10
    snapshots = SnapshotEnsemble(epochs=[1, 2])
    model.fit(x, y, epochs=2, callbacks=[snapshots], verbose=0)
    model.fit(x, y, epochs=1, callbacks=[snapshots], verbose=0)
    assert [epoch for epoch, _ in snapshots.snapshots] == [1]


def test_weight_averaging_ends_with_the_running_average_of_the_weights(digits):
    x_train, x_test, y_train, y_test = digits
    momentum = 0.8
    model = _mlp(with_weight_averaging(keras.optimizers.Adam(0.01), momentum=momentum))
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(model.get_weights())
    )
    history = model.fit(x_train, y_train, epochs=2, batch_size=64, verbose=0,
                        validation_data=(x_test, y_test),
                        callbacks=[keras.callbacks.SwapEMAWeights(), record])

    expected = seen[0]  # Keras starts the average at the weights after the first step
    for weights in seen[1:]:
        expected = [momentum * a + (1 - momentum) * w for a, w in zip(expected, weights)]
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not np.allclose(model.get_weights()[0], seen[-1][0])  # not the last raw weights
    # SwapEMAWeights validated the averaged weights, which the model now holds.
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert history.history["val_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    assert accuracy > 0.85


def test_with_weight_averaging_copies_the_optimizer():
    schedule = cyclic_cosine_learning_rate(0.1, 5)
    original = keras.optimizers.SGD(schedule, momentum=0.5)
    averaging = with_weight_averaging(original, momentum=0.95)
    assert isinstance(averaging, keras.optimizers.SGD) and averaging is not original
    assert averaging.use_ema and averaging.ema_momentum == 0.95 and averaging.momentum == 0.5
    assert not original.use_ema
    assert averaging.get_config()["learning_rate"] == original.get_config()["learning_rate"]
    assert with_weight_averaging("rmsprop").use_ema


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: every=None, epochs=None"):
        SnapshotEnsemble()
    with pytest.raises(ValueError, match="Received: every=0"):
        SnapshotEnsemble(every=0)
    with pytest.raises(ValueError, match="Received: epochs=0"):
        SnapshotEnsemble(epochs=[0, 3])
    with pytest.raises(ValueError, match="No snapshots were taken"):
        SnapshotEnsemble(every=2).members()
    with pytest.raises(ValueError, match="Received: steps_per_cycle=0"):
        cyclic_cosine_learning_rate(0.1, 0)
    with pytest.raises(ValueError, match="Received: initial_learning_rate=-0.1"):
        cyclic_cosine_learning_rate(-0.1, 10)
    with pytest.raises(ValueError, match="Received: momentum=1.0"):
        with_weight_averaging("adam", momentum=1.0)


def test_snapshot_ensemble_of_a_model_holding_pca_whitening(digits):
    x_train, x_test, y_train, _ = digits
    whitening = PCAWhitening(n_components=0.9)
    whitening.adapt(x_train)
    model = keras.Sequential([
        keras.Input((64,)), whitening, keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    snapshots = SnapshotEnsemble(every=1)
    model.fit(x_train, y_train, epochs=2, batch_size=64, callbacks=[snapshots], verbose=0)
    members = snapshots.members()
    predictions = np.stack([member.predict(x_test, verbose=0) for member in members])
    # The last snapshot holds the final weights.
    np.testing.assert_allclose(predictions[-1], model.predict(x_test, verbose=0), atol=1e-6)
    assert not np.allclose(predictions[0], predictions[1], atol=1e-3)
    np.testing.assert_allclose(
        snapshots.ensemble().predict(x_test, verbose=0), predictions.mean(axis=0), atol=1e-6
    )


def test_epochs_must_be_a_list():
    with pytest.raises(ValueError, match="expected a list of epoch numbers .* Received: epochs=3"):
        SnapshotEnsemble(epochs=3)


@pytest.mark.parametrize("name, cls, momentum", [
    ("momentum", keras.optimizers.SGD, 0.9),
    ("radam", RAdam, None),
])
def test_weight_averaging_takes_the_seeds_optimizer_names(name, cls, momentum):
    optimizer = with_weight_averaging(name, momentum=0.9)
    assert isinstance(optimizer, cls) and optimizer.use_ema and optimizer.ema_momentum == 0.9
    if momentum is not None:
        assert optimizer.momentum == momentum
