"""Tiny models of every kind the monitors must handle, with matching data."""

import types

import keras
import numpy as np
import pytest


def data(kind, n=64):
    rng = np.random.default_rng(0)
    if kind == "conv":
        x = rng.standard_normal((n, 8, 8, 1)).astype("float32")
    elif kind == "rnn":
        x = rng.standard_normal((n, 5, 3)).astype("float32")
    elif kind == "embedding":
        x = rng.integers(0, 12, size=(n, 6)).astype("int32")
    else:
        x = rng.standard_normal((n, 6)).astype("float32")
    return x, rng.integers(0, 3, size=(n,)).astype("int32")


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu", name="hidden")
        self.out = keras.layers.Dense(3, activation="softmax", name="out")

    def call(self, x):
        return self.out(self.hidden(x))


class CustomStep(keras.Model):
    """A user-defined train_step (the pattern of the Keras guide)."""

    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def build(kind):
    """Returns `(model, expected activation layer names)`."""
    L = keras.layers
    if kind == "sequential":
        model = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="tanh", name="a"),
                                  L.Dense(8, name="b"), L.ReLU(name="r"),
                                  L.Dense(3, activation="softmax", name="out")])
        return model, ["a", "b", "r", "out"]
    if kind == "functional_shared":
        inputs = keras.Input((6,))
        shared = L.Dense(6, activation="sigmoid", name="shared")
        h = shared(shared(inputs))
        outputs = L.Dense(3, activation="softmax", name="out")(h)
        return keras.Model(inputs, outputs), ["shared", "shared/call_1", "out"]
    if kind == "subclassed":
        return Subclassed(), ["hidden", "out"]
    if kind == "nested":
        inner = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu", name="dense")], name="inner")
        inputs = keras.Input((6,))
        h = L.Dense(8, activation="relu", name="dense")(inner(inputs))
        outputs = L.Dense(3, activation="softmax", name="out")(h)
        return keras.Model(inputs, outputs, name="outer"), ["inner/dense", "dense", "out"]
    if kind == "conv":
        model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu", name="conv"),
                                  L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax", name="out")])
        return model, ["conv", "out"]
    if kind == "rnn":
        model = keras.Sequential([keras.Input((5, 3)), L.SimpleRNN(6, name="rnn"),
                                  L.Dense(3, activation="softmax", name="out")])
        return model, ["rnn", "out"]
    if kind == "embedding":
        model = keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(12, 4, name="emb"),
                                  L.Flatten(), L.Dense(3, activation="softmax", name="out")])
        return model, ["out"]
    if kind == "custom_step":
        inputs = keras.Input((6,))
        h = L.Dense(8, activation="relu", name="hidden")(inputs)
        outputs = L.Dense(3, activation="softmax", name="out")(h)
        return CustomStep(inputs, outputs), ["hidden", "out"]
    raise ValueError(kind)


def data_kind(kind):
    return kind if kind in ("conv", "rnn", "embedding") else "dense"


def leftover_patches(model):
    """Instance attributes a monitor could have left on the model."""
    from keras_recipes.callbacks import _layers

    left = [name for name in ("train_step",) if name in vars(model)]
    if model.optimizer is not None and "apply" in vars(model.optimizer):
        left.append("optimizer.apply")
    left += [name for name, layer in _layers.leaf_layers(model) if "call" in vars(layer)]
    return left


@pytest.fixture
def models():
    """`models.build(kind)`, `models.data(kind)`, `models.data_kind(kind)`,
    `models.leftover_patches(model)`."""
    return types.SimpleNamespace(
        build=build, data=data, data_kind=data_kind, leftover_patches=leftover_patches
    )
