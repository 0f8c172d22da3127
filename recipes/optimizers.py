"""Optimizers by the names the seeds use (seeds 002, 003, 004)."""

import importlib

import keras

from keras_recipes.recipes._validation import check_choice, check_learning_rate, python_numbers

#: Optimizer name -> (import path of the class, defaults the name implies).
#: "momentum" and "nesterov" are SGD with momentum 0.9 unless given (seed 002).
OPTIMIZERS = {
    "sgd": ("keras.optimizers.SGD", {}),
    "momentum": ("keras.optimizers.SGD", {"momentum": 0.9}),
    "nesterov": ("keras.optimizers.SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("keras.optimizers.Adagrad", {}),
    "rmsprop": ("keras.optimizers.RMSprop", {}),
    "adadelta": ("keras.optimizers.Adadelta", {}),
    "adam": ("keras.optimizers.Adam", {}),
    "adamw": ("keras.optimizers.AdamW", {}),
    "nadam": ("keras.optimizers.Nadam", {}),
    "radam": ("keras_recipes.recipes.radam.RAdam", {}),
}


def _load(path):
    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def make_optimizer(name, learning_rate, **kwargs):
    """Creates a Keras optimizer from the seeds' names.

    `"momentum"` and `"nesterov"` are SGD with momentum 0.9 (Nesterov's
    look-ahead for the latter) unless `momentum` is given. `clipnorm`,
    `clipvalue` and `global_clipnorm` pass through to Keras (gradient
    clipping against exploding gradients, seed 000), as do all other
    keyword arguments of the optimizer class; NumPy scalars among them
    reach Keras as Python numbers.

    Args:
        name: One of `OPTIMIZERS`: "sgd", "momentum", "nesterov", "adagrad",
            "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam".
        learning_rate: A number > 0, a
            `keras.optimizers.schedules.LearningRateSchedule` or a callable
            returning the rate.
        **kwargs: Passed to the optimizer's constructor.

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        ValueError: for an unknown name or a non-positive learning rate.

    Example:

    >>> optimizer = make_optimizer("momentum", 0.01, clipnorm=1.0)
    """
    check_choice("name", name, OPTIMIZERS)
    learning_rate = check_learning_rate(learning_rate)
    path, defaults = OPTIMIZERS[name]
    return _load(path)(learning_rate=learning_rate, **python_numbers({**defaults, **kwargs}))
