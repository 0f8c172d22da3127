import keras
import numpy as np
import pytest

from keras_recipes.recipes import OPTIMIZERS, make_optimizer

EXPECTED_CLASSES = {
    "sgd": keras.optimizers.SGD, "momentum": keras.optimizers.SGD,
    "nesterov": keras.optimizers.SGD, "adagrad": keras.optimizers.Adagrad,
    "rmsprop": keras.optimizers.RMSprop, "adadelta": keras.optimizers.Adadelta,
    "adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
    "nadam": keras.optimizers.Nadam,
}


def test_radam_by_name():
    from keras_recipes.recipes import RAdam

    optimizer = make_optimizer("radam", 0.01, beta_2=0.99)
    assert type(optimizer) is RAdam and optimizer.beta_2 == 0.99


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_names_map_to_keras_classes(name):
    optimizer = make_optimizer(name, 0.01)
    assert type(optimizer) is EXPECTED_CLASSES[name]
    assert float(optimizer.learning_rate) == pytest.approx(0.01)


def test_momentum_defaults_and_overrides():
    assert make_optimizer("sgd", 0.1).momentum == 0.0
    momentum = make_optimizer("momentum", 0.1)
    assert momentum.momentum == 0.9 and not momentum.nesterov
    nesterov = make_optimizer("nesterov", 0.1, momentum=0.8)
    assert nesterov.momentum == 0.8 and nesterov.nesterov


@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clipping_passes_through(clip):
    assert getattr(make_optimizer("adam", 1e-3, **{clip: 0.5}), clip) == 0.5


def test_clipnorm_bounds_the_applied_update():
    var = keras.Variable(np.zeros(4, "float32"))
    optimizer = make_optimizer("sgd", 1.0, clipnorm=1.0)
    optimizer.apply([keras.ops.convert_to_tensor(np.full(4, 100.0, "float32"))], [var])
    assert float(np.linalg.norm(var.numpy())) == pytest.approx(1.0, rel=1e-5)


def test_learning_rate_schedule_is_accepted():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    optimizer = make_optimizer("momentum", schedule)
    assert optimizer._learning_rate is schedule


def test_every_name_in_the_table_trains_a_tiny_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([1.0, -1.0, 2.0], "float32")
    for name in OPTIMIZERS:
        learning_rate = 1.0 if name == "adadelta" else 0.05
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(make_optimizer(name, learning_rate), "mse")
        before = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=5, batch_size=16, verbose=0)
        assert model.evaluate(x, y, verbose=0) < before, name


@pytest.mark.parametrize(
    "name, learning_rate, message",
    [
        ("adamm", 0.1, r"`name`: expected one of \['adadelta', 'adagrad', .*'sgd'\]. Received: name='adamm'"),
        ("adam", 0.0, r"`learning_rate`: expected a number > 0, .* Received: learning_rate=0.0"),
        ("adam", -1e-3, r"Received: learning_rate=-0.001"),
        ("adam", "fast", r"Received: learning_rate='fast'"),
    ],
)
def test_bad_input(name, learning_rate, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, learning_rate)
