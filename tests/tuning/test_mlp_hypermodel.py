import keras
import keras_tuner
import pytest

from keras_recipes.tuning import mlp_hypermodel


def test_learning_rate_and_l2_are_log_ranges_by_default():
    hp = keras_tuner.HyperParameters()
    model = mlp_hypermodel((64,), 10).build(hp)
    space = {p.name: p for p in hp.space}
    assert set(space) == {"learning_rate", "l2"}
    assert (space["learning_rate"].min_value, space["learning_rate"].max_value) == (1e-6, 1e-1)
    assert (space["l2"].min_value, space["l2"].max_value) == (1e-6, 1.0)
    assert space["learning_rate"].sampling == space["l2"].sampling == "log"
    assert model.output_shape == (None, 10) and model.optimizer is not None


def test_values_from_the_trial_reach_the_model():
    hp = keras_tuner.HyperParameters()
    hp.values = {"learning_rate": 0.02, "l2": 0.5, "hidden_units": "32-16", "optimizer": "sgd"}
    hypermodel = mlp_hypermodel((8,), 3, hidden_units=[(16,), (32, 16)], optimizer=["adam", "sgd"])
    model = hypermodel.build(hp)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.02)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [32, 16, 3]
    assert float(dense[0].kernel_regularizer.l2) == pytest.approx(0.5)


def test_fixed_values_are_not_searched():
    hp = keras_tuner.HyperParameters()
    model = mlp_hypermodel((8,), 1, learning_rate=0.01, l2=0.0, dropout=(0.0, 0.5)).build(hp)
    assert [p.name for p in hp.space] == ["dropout"]
    assert hp.space[0].sampling == "linear"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert model.loss.__class__.__name__ == "BinaryCrossentropy"


def test_regression_task_uses_the_regressor_recipe():
    model = mlp_hypermodel((8,), 2, task="regression").build(keras_tuner.HyperParameters())
    assert model.get_layer("output").activation.__name__ == "linear"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": (1e-1, 1e-3)}, "learning_rate"),
        ({"learning_rate": (0.0, 1e-3)}, "learning_rate"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"l2": -1.0}, "l2"),
        ({"dropout": (0.2, 1.5)}, r"rates in \[0, 1\)\. Received: dropout=\(0\.2, 1\.5\)"),
        ({"dropout": 1.0}, r"Received: dropout=1\.0"),
        ({"learning_rate": (1e-3, float("inf"))},
         r"finite numbers with 0 < min < max\. Received: learning_rate=\(0\.001, inf\)"),
        ({"learning_rate": float("inf")}, r"Received: learning_rate=inf"),
        ({"l2": (float("nan"), 1.0)}, r"Received: l2=\(nan, 1\.0\)"),
        ({"l2": (1e-2, 1e-4)}, r"0 < min < max\. Received: l2=\(0\.01, 0\.0001\)"),
        ({"hidden_units": []}, "hidden_units"),
        ({"hidden_units": [(16,), (0,)]}, "hidden_units"),
        ({"optimizer": "adamax"}, r"Received: optimizer='adamax'"),
        ({"optimizer": ["adam", "adamax"]}, r"non-empty list of them.*Received: optimizer=\['adam', 'adamax'\]"),
        ({"optimizer": []}, r"Received: optimizer=\[\]"),
        ({"optimizer": 5}, r"Received: optimizer=5"),
        ({"task": "ranking"}, "task"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp_hypermodel((8,), 3, **kwargs)
