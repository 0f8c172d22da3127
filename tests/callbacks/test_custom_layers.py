"""The monitors inside user-defined layers, and the layer graph around them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.callbacks import (
    ActivationStats, GradientMonitor, TrainingDoctor, _layers, _statistics, layer_statistics,
)

STATISTICS = ["mean", "std", "min", "max", "saturated_fraction", "dead_fraction"]
SCCE = "sparse_categorical_crossentropy"


@keras.saving.register_keras_serializable(package="test_custom_layers")
class ResidualBlock(keras.layers.Layer):
    """x + gate * project(expand(x)): two Dense sublayers and a weight of its
    own (without the `x + ` if not `residual`)."""

    def __init__(self, units, residual=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.residual = units, residual
        self.expand = keras.layers.Dense(units, activation="relu", name=f"{self.name}_expand")
        self.project = keras.layers.Dense(units, name=f"{self.name}_project")

    def build(self, input_shape):
        self.expand.build(input_shape)
        self.project.build((*input_shape[:-1], self.units))
        self.gate = self.add_weight(shape=(self.units,), initializer="ones", name="gate")

    def call(self, x):
        y = self.gate * self.project(self.expand(x))
        return x + y if self.residual else y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "residual": self.residual}


@keras.saving.register_keras_serializable(package="test_custom_layers")
class Tower(keras.layers.Layer):
    """Blocks in a block."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.blocks = [ResidualBlock(units, name="res1"), ResidualBlock(units, name="res2")]

    def build(self, input_shape):
        for block in self.blocks:
            block.build(input_shape)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def tower_model():
    inputs = keras.Input((6,))
    h = Tower(8, name="tower")(keras.layers.Dense(8, activation="relu", name="stem")(inputs))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(h))


def data(n=32, features=6):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, features)).astype("float32"), rng.integers(0, 3, n)


def test_sublayers_of_custom_layers_are_watched_and_restored(models, tmp_path):
    model, (x, y) = tower_model(), data()
    names = ["stem", "res1_expand", "res1_project", "res1", "res2_expand", "res2_project", "res2", "out"]
    assert [name for name, _ in _layers.gradient_layers(model)] == names
    tower = model.get_layer("tower")
    # A block's own weight stays under its name; the sublayers' go under theirs.
    kernels = {"stem": [model.get_layer("stem").kernel], "out": [model.get_layer("out").kernel]}
    for block in tower.blocks:
        kernels.update({block.name: [block.gate], block.expand.name: [block.expand.kernel],
                        block.project.name: [block.project.kernel]})
    model.compile(keras.optimizers.SGD(0.1), SCCE)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    grads = tape.gradient(loss, kernels)
    expected_norms = {name: float(tf.linalg.global_norm(group)) for name, group in grads.items()}
    expected_stats = layer_statistics(model, x)
    before = model.predict(x, verbose=0)
    stats, monitor = ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[stats, monitor])
    norms = monitor.to_dataframe().set_index("layer")["grad_norm"].to_dict()
    assert norms == pytest.approx(expected_norms, rel=1e-5)
    got = stats.to_dataframe()
    assert got["layer"].tolist() == expected_stats["layer"].tolist() == [
        "stem", "res1_expand", "res1_project", "res2_expand", "res2_project", "out"]
    np.testing.assert_allclose(got[STATISTICS].to_numpy(), expected_stats[STATISTICS].to_numpy(),
                               rtol=1e-5, atol=1e-6)
    assert models.leftover_patches(model) == []
    assert not any("call" in vars(layer) for layer in tower._flatten_layers())
    assert not np.allclose(model.predict(x, verbose=0), before)  # trained, and predicts
    model.save(tmp_path / "tower.keras")
    loaded = keras.models.load_model(tmp_path / "tower.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


class Odd(keras.layers.Layer):
    """Calls one sublayer twice and never calls another (built all the same)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.twice = keras.layers.Dense(6, activation="tanh", name="twice")
        self.unused = keras.layers.Dense(6, activation="relu", name="unused")

    def build(self, input_shape):
        self.twice.build(input_shape)
        self.unused.build(input_shape)

    def call(self, x):
        return self.twice(self.twice(x))


def test_shared_and_unused_sublayers():
    model = keras.Sequential([keras.Input((6,)), Odd(name="odd"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    x, y = data()
    model.compile(keras.optimizers.SGD(0.1), SCCE)
    stats, monitor = ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1)
    with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats, monitor])
    table = stats.to_dataframe()
    assert list(dict.fromkeys(table["layer"])) == ["twice", "twice/call_1", "out"]
    assert np.isfinite(table[["mean", "std"]].to_numpy()).all()
    grads = monitor.to_dataframe()
    assert list(dict.fromkeys(grads["layer"])) == ["twice", "out"]
    assert (grads["grad_norm"] > 0).all()
    assert monitor.findings == []  # the unused layer's zeros are no vanishing gradient
    assert layer_statistics(model, x)["layer"].tolist() == ["twice", "twice/call_1", "out"]


def test_only_user_defined_layers_are_walked_into():
    class Frames(keras.layers.TimeDistributed):
        pass

    assert _layers.sublayers(keras.layers.TimeDistributed(keras.layers.Dense(2))) == []
    # A subclass of a Keras layer keeps its treatment: read through its inner layer.
    assert _layers.sublayers(Frames(keras.layers.Dense(2))) == []
    assert [layer.name for layer in _layers.sublayers(Tower(4))] == ["res1", "res2"]
    assert _layers.sublayers(tower_model()) == []  # models are walked as models


def test_dominators_around_and_inside_custom_layers():
    found = _layers.dominators(tower_model())
    stem = found["stem"]
    # Inside, the wiring is unknown: every sublayer, however deep, gets what
    # dominates the block; after it, the block itself, none of its insides.
    for name in ("res1_expand", "res1_project", "res1", "res2_expand", "res2", "tower"):
        assert found[name] == stem | {"stem"}
    assert found["out"] == stem | {"stem", "tower"}


def test_dead_relu_inside_a_custom_layer_is_diagnosed(digits):
    x, _, y, _ = digits
    block = ResidualBlock(32, residual=False, name="block")
    block.expand.bias_initializer = keras.initializers.Constant(-20.0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, name="stem"), block,
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss=SCCE)
    doctor = TrainingDoctor(every_n_batches=2)
    model.fit(x[:320], y[:320], epochs=4, batch_size=32, verbose=0, callbacks=[doctor])
    dead = [f for f in doctor.findings if f.kind == "dead_relu"]
    assert [f.layer for f in dead] == ["block_expand"]
    assert dead[0].evidence["median_dead_fraction"] == 1.0


def channels_first_model():
    # Channels 0 and 1 of the convolution are constant (a zero kernel): with
    # a -5 bias they stay below 0 in inference; batch statistics map them to 0.
    kernel = np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype("float32")
    kernel[..., :2] = 0.0
    conv = keras.layers.Conv2D(4, 3, padding="same", data_format="channels_first", name="conv",
                               kernel_initializer=keras.initializers.Constant(kernel),
                               bias_initializer=keras.initializers.Constant([-5.0, -5.0, 0.0, 0.0]))
    inputs = keras.Input((3, 6, 6))
    h = keras.layers.BatchNormalization(axis=1, name="bn")(conv(inputs))
    h = keras.layers.ReLU(name="relu")(h)
    pooled = keras.layers.GlobalAveragePooling2D(data_format="channels_first")(h)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(pooled))


def test_standalone_relu_follows_the_channels_first_layer_feeding_it():
    model = channels_first_model()
    x = np.random.default_rng(1).standard_normal((16, 3, 6, 6)).astype("float32")
    assert layer_statistics(model, x, layers=["relu"])["dead_fraction"].tolist() == [0.5]
    stats = ActivationStats(every_n_batches=1, layers=["relu"])
    model.compile(keras.optimizers.SGD(0.01), SCCE)
    model.fit(x, np.arange(16) % 2, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    assert stats.to_dataframe()["dead_fraction"].tolist() == [0.5]


def test_unit_axis_of_layers_that_keep_their_input_layout():
    inputs = keras.Input((3, 6, 6))
    first = keras.layers.Conv2D(4, 3, padding="same", data_format="channels_first")(inputs)
    second = keras.layers.Conv2D(4, 3, padding="same", data_format="channels_first")(inputs)
    summed = keras.layers.Add()([first, second])
    after_add = keras.layers.Activation("relu")
    after_add(summed)
    assert _statistics.unit_axis(after_add) == 1
    after_input = keras.layers.ReLU()
    after_input(inputs)  # raw inputs: nothing says where their units are
    assert _statistics.unit_axis(after_input) == -1
    dense = keras.layers.Dense(4 * 6 * 6)(keras.layers.Flatten()(inputs))
    mixed = keras.layers.Add()([first, keras.layers.Reshape((4, 6, 6))(dense)])
    after_mixed = keras.layers.ReLU()
    after_mixed(mixed)  # the layers feeding it disagree
    assert _statistics.unit_axis(after_mixed) == -1
    assert _statistics.unit_axis(keras.layers.ReLU()) == -1  # never called


def test_a_shared_layer_behind_a_dead_layer_is_reported_with_it(digits):
    x, _, y, _ = digits
    inputs = keras.Input((64,))
    dead = keras.layers.Dense(16, activation="relu", name="dense_dead",
                              bias_initializer=keras.initializers.Constant(-10.0))(inputs)
    shared = keras.layers.Dense(16, activation="relu", name="shared")
    branches = [shared(keras.layers.Dense(16, use_bias=False, name=name)(dead)) for name in ("a", "b")]
    side = keras.layers.Dense(16, activation="relu", name="side", use_bias=False,
                              kernel_initializer="zeros")(inputs)  # dead, not behind dense_dead
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(
        keras.layers.Concatenate()(branches + [side]))
    model = keras.Model(inputs, outputs)
    assert "dense_dead" in _layers.dominators(model)["shared"]
    model.compile(optimizer="adam", loss=SCCE)
    doctor = TrainingDoctor(every_n_batches=2)
    model.fit(x[:320], y[:320], epochs=4, batch_size=32, verbose=0, callbacks=[doctor])
    dead_findings = [f for f in doctor.findings if f.kind == "dead_relu"]
    assert [f.layer for f in dead_findings] == ["dense_dead", "side"]
    assert dead_findings[0].evidence["downstream_dead_layers"] == ["shared", "shared/call_1"]
