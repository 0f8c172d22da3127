"""Each trial's model built before its `fit`, so the trial traces its
training step once instead of twice (`recipes.build_for_training`)."""

import keras_tuner

from keras_recipes.recipes.build_for_training import build_where_possible


def build_before_fit(model, hypermodel, fit_args, fit_kwargs):
    """Builds `model` for the data a search passes to `fit`, where it can.

    Left to Keras (which then traces the first step twice) when the
    hypermodel has its own `fit` (it may transform the data, or compile the
    model there), when the model is not compiled, or when the data is of a
    kind `build_for_training` does not read (a generator, a `PyDataset`).
    """
    if type(hypermodel).fit is not keras_tuner.HyperModel.fit:
        return
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    build_where_possible(model, x, y, fit_kwargs.get("sample_weight"))
