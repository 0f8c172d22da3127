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


def test_returns_table_and_histogram_figure():
    table, figure = activation_study("sigmoid", 1.0, depth=3, width=64, batch_size=100)
    assert table["layer"].tolist() == ["layer_1", "layer_2", "layer_3"]
    assert set(table["activation"]) == {"sigmoid"}
    # Seed 001: std-1 weights push sigmoid outputs to 0 and 1.
    assert (table["saturated_fraction"] > 0.4).all()
    assert isinstance(figure, Figure) and len(figure.axes) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"initializer": "no_such_initializer"}, "Unknown initializer"),
        ({"initializer": -0.1}, "initializer"),
        ({"depth": 0}, "depth"),
        ({"width": 2.5}, "width"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        activation_study(**kwargs)
