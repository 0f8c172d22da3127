import keras
import numpy as np
import pytest

from keras_recipes.recipes import PCAWhitening, RAdam, image_augmentation, make_optimizer


def _clipped_step_norm(optimizer):
    variable = keras.Variable(np.zeros(4, "float32"))
    optimizer.apply_gradients([(np.full(4, 100.0, "float32"), variable)])
    return float(np.linalg.norm(variable.numpy()))


def _components_kept(layer):
    # One axis holds about 99% of the variance.
    x = np.random.default_rng(0).normal(size=(64, 4)) * [10.0, 1.0, 0.1, 0.01]
    layer.adapt(x.astype("float32"))
    return layer.eigenvectors.shape[1]


# NumPy scalars that Keras refuses (or, as `np.float64`, computes in float64 with), and a
# fraction `PCAWhitening` took only as a Python float.
NUMPY_SCALAR_CASES = {
    "RAdam_learning_rate": (
        lambda: RAdam(learning_rate=np.float32(0.01)),
        lambda optimizer: optimizer.get_config()["learning_rate"], 0.01,
    ),
    "RAdam_integer_learning_rate": (
        lambda: RAdam(learning_rate=np.int64(1)),
        lambda optimizer: optimizer.get_config()["learning_rate"], 1.0,
    ),
    "RAdam_global_clipnorm": (
        lambda: RAdam(learning_rate=1.0, global_clipnorm=np.float64(1.0)), _clipped_step_norm, 1.0,
    ),
    "make_optimizer_momentum": (
        lambda: make_optimizer("sgd", 0.1, momentum=np.float32(0.8)),
        lambda optimizer: optimizer.momentum, 0.8,
    ),
    "make_optimizer_global_clipnorm": (
        lambda: make_optimizer("sgd", 1.0, global_clipnorm=np.float64(1.0)),
        _clipped_step_norm, 1.0,
    ),
    "image_augmentation_rotation": (
        lambda: image_augmentation(rotation=np.float32(0.1)),
        lambda model: model.get_layer("random_rotation").factor, (-0.1, 0.1),
    ),
    "image_augmentation_translation": (
        lambda: image_augmentation(translation=np.float16(0.25)),
        lambda model: model.get_layer("random_translation").get_config()["height_factor"], 0.25,
    ),
    "PCAWhitening_fraction": (
        lambda: PCAWhitening(n_components=np.float32(0.9)), _components_kept, 1,
    ),
}


@pytest.mark.parametrize(
    "make, read, expected", NUMPY_SCALAR_CASES.values(), ids=NUMPY_SCALAR_CASES.keys()
)
def test_numpy_scalars_are_taken_as_python_numbers(make, read, expected):
    value = read(make())
    assert value == pytest.approx(expected, rel=1e-6)
    # Python numbers, so configs serialize as plain JSON numbers.
    items = value if isinstance(value, tuple) else (value,)
    assert all(type(item) in (int, float) for item in items)
