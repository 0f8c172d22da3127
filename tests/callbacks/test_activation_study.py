import pytest
from matplotlib.figure import Figure

from keras_recipes.callbacks import activation_study

# Seed 003: 6 x Dense(4096, use_bias=False) on randn(16, 4096).
SEED_003 = [
    ("tanh", 0.01, "std", [0.49, 0.29, 0.18, 0.11, 0.07, 0.05]),
    ("tanh", 0.05, "std", [0.87, 0.85, 0.85, 0.85, 0.85, 0.85]),
    ("tanh", "glorot_normal", "std", [0.63, 0.49, 0.41, 0.36, 0.32, 0.29]),
    ("relu", "glorot_normal", "mean", [0.40, 0.28, 0.19, 0.14, 0.10, 0.07]),
    ("relu", "glorot_normal", "std", [0.58, 0.41, 0.29, 0.20, 0.14, 0.10]),
    ("relu", "he_normal", "mean", [0.56] * 6),
    ("relu", "he_normal", "std", [0.83] * 6),
]


def test_seed_003_table():
    tables = {}
    for activation, initializer, column, expected in SEED_003:
        key = (activation, initializer)
        if key not in tables:
            tables[key] = activation_study(activation, initializer)[0]
        assert tables[key][column].tolist() == pytest.approx(expected, abs=0.03), key
    saturated = tables[("tanh", 0.05)]["saturated_fraction"]
    assert (saturated > 0.3).all()
    assert (tables[("tanh", 0.01)]["saturated_fraction"] < 0.001).all()
    # With 16 independent N(0, 1) inputs no first-layer unit is <= 0 for all.
    assert tables[("relu", "he_normal")]["dead_fraction"].iloc[0] == 0.0


def test_seed_001_sigmoid_histograms():
    # Seed 001: 5 sigmoid layers of 100 units on 1000 random rows.
    table, figure = activation_study("sigmoid", 1.0, depth=5, width=100, batch_size=1000)
    assert table["layer"].tolist() == [f"layer_{i}" for i in range(1, 6)]
    assert set(table["activation"]) == {"sigmoid"}
    # std-1 weights push the outputs to 0 and 1 ...
    assert (table["saturated_fraction"] > 0.3).all()
    assert isinstance(figure, Figure) and len(figure.axes) == 5
    # ... std-0.01 weights gather them around 0.5.
    table, _ = activation_study("sigmoid", 0.01, depth=5, width=100, batch_size=1000)
    assert table["mean"].tolist() == pytest.approx([0.5] * 5, abs=0.01)
    assert (table["std"] < 0.05).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"initializer": "no_such_initializer"}, "Unknown initializer"),
        ({"initializer": -0.1}, "initializer"),
        ({"depth": 0}, "depth"),
        ({"width": 2.5}, "width"),
        ({"seed": -1}, "expected an integer from 0 to 2\\*\\*32 - 1. Received: seed=-1"),
        ({"seed": "a"}, "Received: seed='a'"),
        ({"activation": "nope"}, "Unknown activation.*Received: activation='nope'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        activation_study(**kwargs)
