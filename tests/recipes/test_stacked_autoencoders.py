import logging

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.recipes import (
    greedy_pretrain,
    mlp,
    stacked_autoencoder,
    train_stacked_autoencoder,
)


def test_stacked_autoencoder_layout():
    model = stacked_autoencoder((8, 8), [48, 24], classes=10)
    names = [layer.name for layer in model.layers]
    assert names == ["inputs", "flatten", "encoder_1", "encoder_2", "output"]
    assert model.get_layer("encoder_2").output_shape == (None, 24)
    assert model.get_layer("output").activation.__name__ == "softmax"
    assert stacked_autoencoder((4,), [2], classes=1).get_layer("output").activation.__name__ == (
        "sigmoid"
    )


def test_pretrain_then_fine_tune_on_digits(digits):
    x_train, x_test, y_train, y_test = digits
    model = stacked_autoencoder((64,), [48, 24], classes=10)
    untrained = [layer.get_weights()[0] for layer in model.layers[1:3]]
    pretraining, history = train_stacked_autoencoder(
        model, x_train, y_train, pretrain_epochs=4, epochs=8, batch_size=64, learning_rate=5e-3
    )
    # Reconstruction error falls in each stage.
    assert list(pretraining.columns) == ["stage", "units", "epoch", "loss"]
    assert pretraining.groupby("stage")["units"].first().tolist() == [48, 24]
    for _, stage in pretraining.groupby("stage"):
        assert stage["loss"].iloc[-1] < 0.5 * stage["loss"].iloc[0]
    assert not np.allclose(model.layers[1].get_weights()[0], untrained[0])
    assert history.history["loss"][-1] < history.history["loss"][0]
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.9


def test_pretraining_trains_the_model_encoders_in_place(digits):
    x_train = digits[0][:300]
    model = stacked_autoencoder((64,), [16], classes=10)
    head = model.get_layer("output").get_weights()[0].copy()
    before = model.get_layer("encoder_1").get_weights()[0].copy()
    greedy_pretrain(model, x_train, epochs=2)
    encoder = model.get_layer("encoder_1")
    assert not np.allclose(encoder.get_weights()[0], before)
    np.testing.assert_array_equal(model.get_layer("output").get_weights()[0], head)
    # The stacked model computes its head on exactly the pretrained encoder's codes.
    expected = model.get_layer("output")(encoder(x_train)).numpy()
    np.testing.assert_allclose(model.predict(x_train, verbose=0), expected, rtol=1e-5, atol=1e-7)


def test_denoising_pretraining_reduces_reconstruction_error(digits):
    x_train = digits[0][:400]
    model = stacked_autoencoder((64,), [32, 16], classes=10)
    pretraining = greedy_pretrain(model, x_train, epochs=3, batch_size=64, noise="masking",
                                  noise_level=0.3, learning_rate=5e-3)
    for _, stage in pretraining.groupby("stage"):
        assert stage["loss"].iloc[-1] < stage["loss"].iloc[0]


def test_bad_arguments(digits):
    x_train = digits[0][:32]
    with pytest.raises(ValueError, match="Received: classes=0"):
        stacked_autoencoder((64,), [8], classes=0)
    with pytest.raises(ValueError, match="Received: model='mlp'"):
        greedy_pretrain(mlp((64,), [8], 10), x_train)
    model = stacked_autoencoder((64,), [8], classes=10)
    with pytest.raises(ValueError, match="Received: noise='salt'"):
        greedy_pretrain(model, x_train, noise="salt")
    with pytest.raises(ValueError, match="Received: epochs=0"):
        greedy_pretrain(model, x_train, epochs=0)
    with pytest.raises(ValueError, match="Received: output_activation='cosine'"):
        greedy_pretrain(model, x_train, output_activation="cosine")
    with pytest.raises(ValueError, match="Received: noise_level=-1"):
        greedy_pretrain(model, x_train, noise="gaussian", noise_level=-1)
    with pytest.raises(ValueError, match="Received: epochs=0"):
        train_stacked_autoencoder(model, x_train, np.zeros(32), epochs=0)


def test_train_stacked_autoencoder_checks_its_own_arguments(digits):
    x_train, y_train = digits[0][:32], digits[2][:32]
    model = stacked_autoencoder((64,), [8], classes=10)
    with pytest.raises(
        ValueError, match="`pretrain_epochs`: expected an integer >= 1. Received: pretrain_epochs=0"
    ):
        train_stacked_autoencoder(model, x_train, y_train, pretrain_epochs=0, epochs=3)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        train_stacked_autoencoder(model, x_train, y_train, pretrain_epochs=1, batch_size=0)


def test_codes_are_computed_without_retracing_warnings(caplog):
    # `predict` on each stage's encoder traced a function per stage (and per
    # last, shorter batch), and TensorFlow warned about the retracing.
    x = np.random.default_rng(0).random((300, 64)).astype("float32")
    y = np.arange(300) % 10
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        train_stacked_autoencoder(stacked_autoencoder((64,), [32, 16], classes=10), x, y,
                                  pretrain_epochs=1, epochs=1)
        greedy_pretrain(stacked_autoencoder((64,), [32, 16, 8], classes=10), x, epochs=1)
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


def _weights(model):
    return [weight.copy() for weight in model.get_weights()]


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda y: y[:10],
         r"one label per example .* Received: y\.shape=\(10,\), x\.shape=\(32, 64\)"),
        (lambda y: np.eye(10)[y], r"not one-hot rows\. Received: y\.shape=\(32, 10\)"),
        (lambda y: y + 0.5, r"integer class labels in \[0, 10\)\. Received: y="),
        (lambda y: y + 1, r"integer class labels in \[0, 10\)"),
        (lambda y: y.astype(str), r"integer class labels in \[0, 10\)"),
    ],
)
def test_bad_labels_are_refused_before_pretraining_changes_the_model(digits, labels, message):
    x_train, y_train = digits[0][:32], digits[2][:32]
    model = stacked_autoencoder((64,), [8], classes=10)
    before = _weights(model)
    with pytest.raises(ValueError, match=message):
        train_stacked_autoencoder(model, x_train, labels(y_train), pretrain_epochs=1, epochs=1)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_labels_of_shape_samples_by_one_and_binary_floats_are_accepted(digits):
    x_train, y_train = digits[0][:32], digits[2][:32]
    _, history = train_stacked_autoencoder(
        stacked_autoencoder((64,), [8], classes=10), x_train, y_train[:, None],
        pretrain_epochs=1, epochs=1,
    )
    assert np.isfinite(history.history["loss"]).all()
    _, history = train_stacked_autoencoder(
        stacked_autoencoder((64,), [8], classes=1), x_train, (y_train > 4).astype("float32"),
        pretrain_epochs=1, epochs=1,
    )
    assert np.isfinite(history.history["loss"]).all()


def test_greedy_pretrain_checks_batch_size_dataset_and_optimizer(digits):
    x_train = digits[0][:32]
    model = stacked_autoencoder((64,), [8], classes=10)
    before = _weights(model)
    for batch_size in (0, -4, 2.5):
        with pytest.raises(
            ValueError, match=rf"expected an integer >= 1\. Received: batch_size={batch_size}"
        ):
            greedy_pretrain(model, x_train, epochs=1, batch_size=batch_size)
    dataset = tf.data.Dataset.from_tensor_slices(x_train).batch(8)
    with pytest.raises(
        ValueError, match=r"Dataset` cannot be pretrained on, .* Received: x=<_BatchDataset"
    ):
        greedy_pretrain(model, dataset, epochs=1)
    with pytest.raises(ValueError, match=r"Received: optimizer='adamm'"):
        greedy_pretrain(model, x_train, epochs=1, optimizer="adamm")
    with pytest.raises(ValueError, match=r"Received: optimizer='adamm'"):
        train_stacked_autoencoder(model, x_train, np.zeros(32), optimizer="adamm")
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_encoders_get_their_own_copy_of_an_initializer_instance():
    for initializer in (keras.initializers.HeNormal(), keras.initializers.HeNormal(seed=3)):
        model = stacked_autoencoder((16,), [16, 16, 16], 2, kernel_initializer=initializer)
        kernels = [
            model.get_layer(f"encoder_{i}").get_layer(f"encode_{i}_dense").kernel.numpy()
            for i in (1, 2, 3)
        ]
        assert not np.array_equal(kernels[0], kernels[1])
        assert not np.array_equal(kernels[1], kernels[2])


@pytest.mark.parametrize(
    "fit_kwargs, message",
    [
        ({"validation_split": 1.5},
         r"`validation_split`: expected a float in \[0, 1\)\. Received: validation_split=1\.5"),
        ({"valdation_data": None},
         r"Unrecognized keyword arguments for `fit`: \['valdation_data'\]\. Expected keyword "
         r"arguments of `keras\.Model\.fit` among \['callbacks', .*'validation_data', .*\]\. "
         r"Received: valdation_data=None"),
        ({"callbacks": 5}, r"`callbacks`: expected a list of `keras\.callbacks\.Callback` "
                           r"instances\. Received: callbacks=5"),
        ({"callbacks": [keras.callbacks.EarlyStopping]},
         r"Received: callbacks=\[<class '.*EarlyStopping'>\]"),
    ],
)
def test_fit_arguments_are_refused_before_pretraining_changes_the_model(digits, fit_kwargs,
                                                                        message):
    x_train, y_train = digits[0][:32], digits[2][:32]
    model = stacked_autoencoder((64,), [8], classes=10)
    before = _weights(model)
    with pytest.raises(ValueError, match=message):
        train_stacked_autoencoder(model, x_train, y_train, pretrain_epochs=1, epochs=1,
                                  **fit_kwargs)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_fit_arguments_reach_the_fine_tuning_fit(digits):
    x_train, y_train = digits[0][:40], digits[2][:40]
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    _, history = train_stacked_autoencoder(
        stacked_autoencoder((64,), [8], classes=10), x_train, y_train, pretrain_epochs=1,
        epochs=2, batch_size=8, validation_split=0.25,
        callbacks=stop,  # Keras also takes one callback not in a list
    )
    assert len(history.history["val_loss"]) == 2
    assert stop.model is history.model


def test_input_width_is_checked_before_pretraining(digits):
    x_train, y_train = digits[0][:32], digits[2][:32]
    model = stacked_autoencoder((64,), [8], classes=10)
    before = _weights(model)
    with pytest.raises(
        ValueError,
        match=r"Expected `x` with 64 features per example \(flattened\), the input width of "
        r"`encoder_1`; got 48\. Received: x\.shape=\(32, 48\)",
    ):
        greedy_pretrain(model, x_train[:, :48], epochs=1)
    # Pretraining flattens (32, 8, 8) to the encoders' 64 inputs, but the model takes (64,).
    with pytest.raises(
        ValueError,
        match=r"Expected `x` with examples of shape \(64,\), the input shape of "
        r"`stacked_autoencoder`\. Received: x\.shape=\(32, 8, 8\)",
    ):
        train_stacked_autoencoder(model, x_train.reshape(32, 8, 8), y_train, pretrain_epochs=1)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
