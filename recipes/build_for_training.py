"""`build_for_training`: a compiled model's variables made before `fit`, so
its first `fit` traces the training step once."""

import keras
import tensorflow as tf

from keras_recipes.recipes import _validation


def build_for_training(model, x, y=None, sample_weight=None):
    """Makes a compiled model's variables from the shapes of its data, before `fit`.

    On TensorFlow, Keras makes the variables of the optimizer (its slots),
    of the compiled metrics and loss, and of an unbuilt model inside the first
    trace of the training step. TensorFlow throws a trace that creates
    variables away and traces the step again, so a model's first `fit` traces
    its step twice. Tracing is most of a short fit's time (about 0.4 s of a
    0.9 s one-step fit of a 3-layer MLP on a 2-core CPU). This makes all of
    those variables first, from the shapes and dtypes of `x`, `y` and
    `sample_weight` alone (no data is read, nothing is computed), as Keras
    itself does before `fit` under a distribution strategy, so the first
    `fit` traces once. Training is unchanged: the same variables, with the
    same initial values, in the same order.

    Call it after `compile` and before the first `fit`; on a model whose
    variables all exist it does nothing.

    Args:
        model: A compiled Keras model.
        x: The training inputs as `fit` takes them: an array or tensor, a
            list or dict of them, or a `tf.data.Dataset` (its element spec
            is used; it must then hold the targets too). Only shapes and
            dtypes are read; the first axis may hold any number of examples.
        y: The targets, like `x`. Defaults to `None`.
        sample_weight: The sample weights, like `x`. Defaults to `None`.

    Returns:
        The model, built.

    Raises:
        ValueError: If `model` is not a compiled Keras model, or the data is
            not arrays, tensors or a `tf.data.Dataset`.

    Example:

    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])  # doctest: +SKIP
    >>> build_for_training(model, x, y)  # doctest: +SKIP
    >>> model.fit(x, y, epochs=5)  # traces its training step once  # doctest: +SKIP
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a Keras model. Expected a `keras.Model`. "
            f"Received: model={_validation.short_repr(model)}"
        )
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ValueError(
            "`model` must be compiled before its variables can be made for training. "
            "Expected a model after `model.compile(optimizer, loss)`. "
            f"Received: model={model!r} (not compiled)"
        )
    batch = _data_batch(x, y, sample_weight)
    with model.distribute_strategy.scope():
        # No public route: Keras's own symbolic build (run before `fit` under a
        # distribution strategy, and by other backends) makes the model's,
        # metrics', loss's and optimizer's variables from KerasTensors shaped
        # like the batch. It skips whatever is built already.
        model._symbolic_build(data_batch=batch)
    return model


def build_where_possible(model, x, y=None, sample_weight=None):
    """`build_for_training` for the fits the recipes and the tuner run
    themselves; left to Keras (which then traces the first step twice) when
    the model is not compiled or the data is of a kind it does not read."""
    compiled = getattr(model, "compiled", False) and model.optimizer is not None
    if compiled and _readable(x, y, sample_weight):
        build_for_training(model, x, y, sample_weight)


def _readable(x, y, sample_weight):
    """Whether `build_for_training` takes this data (what `fit` takes beyond
    it, such as generators or a `keras.utils.PyDataset`, it does not)."""
    try:
        _data_batch(x, y, sample_weight)
    except ValueError:
        return False
    return True


def _data_batch(x, y, sample_weight):
    """What Keras's symbolic build takes for a batch: shapes and dtypes."""
    if isinstance(x, tf.data.Dataset):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "`y` and `sample_weight` must be None when `x` is a `tf.data.Dataset` "
                "(the dataset yields them). Expected y=None and sample_weight=None. "
                f"Received: y={_validation.short_repr(y)}, "
                f"sample_weight={_validation.short_repr(sample_weight)}"
            )
        return x.element_spec
    for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        if not _arrays(value) or (name == "x" and value is None):
            raise ValueError(
                f"`{name}` must be arrays or tensors (or lists or dicts of them), or `x` a "
                "`tf.data.Dataset`. Expected values with a `shape` and a `dtype`. "
                f"Received: {name}={_validation.short_repr(value)}"
            )
    return (x,) if y is None and sample_weight is None else (x, y, sample_weight)


def _arrays(value):
    if value is None:
        return True
    leaves = keras.tree.flatten(value)
    return bool(leaves) and all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves)

