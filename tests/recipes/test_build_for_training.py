"""`build_for_training`: a model's first `fit` traces its training step once."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.recipes import build_for_training


def _model(counter, with_input=True, name="x"):
    layers = [keras.Input((8,), name=name)] if with_input else []
    model = keras.Sequential(layers + [
        counter(16, activation="relu"), keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)


def _fit(model, *fit_data, validation):
    counter = type(model.layers[0])
    counter.traces = 0
    keras.utils.set_random_seed(3)
    history = model.fit(*fit_data, epochs=3, batch_size=16, verbose=0, shuffle=False,
                        validation_data=validation)
    return counter.traces, history.history


def test_the_first_fit_traces_once_and_trains_the_same(data, trace_counter):
    x, y = data
    keras.utils.set_random_seed(0)
    plain = _model(trace_counter)
    built = keras.models.clone_model(plain)
    built.set_weights(plain.get_weights())
    built.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    assert build_for_training(built, x, y) is built
    assert built.optimizer.built and len(built.optimizer.variables) == len(plain.get_weights()) * 2 + 2
    traces_built, history_built = _fit(built, x, y, validation=(x, y))
    traces_plain, history_plain = _fit(plain, x, y, validation=(x, y))

    assert (traces_built, traces_plain) == (1, 2)  # Keras alone: the step twice
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history_built[key], history_plain[key], rtol=1e-6)
    for a, b in zip(built.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    def names(optimizer):  # without the optimizer's own name ("adam", "adam_1")
        return [(v.path.split("/", 1)[1], v.shape) for v in optimizer.variables]

    assert names(built.optimizer) == names(plain.optimizer)


@pytest.mark.parametrize("kind", ["dataset", "unbuilt model", "dict inputs", "sample weights"])
def test_other_inputs_and_an_unbuilt_model_trace_once(data, kind, trace_counter):
    x, y = data
    model = _model(trace_counter, with_input=kind != "unbuilt model", name="features")
    fit_data, build_data = (x, y), (x, y)
    if kind == "dataset":
        fit_data = build_data = (tf.data.Dataset.from_tensor_slices((x, y)).batch(16),)
    elif kind == "dict inputs":
        fit_data = build_data = ({"features": x}, y)
    elif kind == "sample weights":
        build_data = (x, y, np.ones(len(x), "float32"))
    build_for_training(model, *build_data)
    assert model.built and model.optimizer.built
    traces, history = _fit(model, *fit_data, validation=None)
    assert traces == 1
    assert history["accuracy"][-1] > history["accuracy"][0]


def test_a_built_model_is_left_as_it_is(data, trace_counter):
    x, y = data
    model = _model(trace_counter)
    _fit(model, x, y, validation=None)
    weights = [v.numpy().copy() for v in model.optimizer.variables]
    build_for_training(model, x, y)
    for variable, before in zip(model.optimizer.variables, weights, strict=True):
        np.testing.assert_array_equal(variable.numpy(), before)
    assert _fit(model, x, y, validation=None)[0] == 0  # the train function is kept


def test_bad_arguments_are_refused(data, trace_counter):
    x, y = data
    with pytest.raises(ValueError, match=r"`model` must be a Keras model.*Received: model='a'"):
        build_for_training("a", x, y)
    uncompiled = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"must be compiled.*\(not compiled\)"):
        build_for_training(uncompiled, x, y)
    model = _model(trace_counter)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with pytest.raises(ValueError, match=r"`y` and `sample_weight` must be None.*Received: y=<ndarray shape=\(64,\)>"):
        build_for_training(model, dataset, y)
    with pytest.raises(ValueError, match=r"`x` must be arrays or tensors.*Received: x=<generator"):
        build_for_training(model, (row for row in x), y)
    with pytest.raises(ValueError, match=r"`y` must be arrays.*Received: y=\[0, 1\]"):
        build_for_training(model, x, [0, 1])
    assert not model.optimizer.built  # nothing was made
