"""Zero-centering and standardization of input features (Keras `Normalization`).

Seed 003, "Data Preprocessing": zero-centering moves each feature's mean to
0; standardization also divides by each feature's standard deviation so all
features share one scale. Both are a `keras.layers.Normalization` adapted to
the training data, so they ride inside the model and save with it.
"""

import numpy as np
import pandas as pd
import keras


def standardization(data, axis=-1, name="standardization"):
    """Returns a `Normalization` layer adapted to standardize `data`.

    Each feature (each position along `axis`) is shifted to mean 0 and
    divided by its standard deviation, as measured on `data`. Features with
    zero variance are mapped to 0 (Keras divides by at least
    `keras.config.epsilon()`). Put the layer first in a model so the same
    statistics are applied at training and inference time.

    Args:
        data: Training features of shape `(samples, features, ...)`: a NumPy
            array, a tensor, a pandas DataFrame (a Series is one feature), or
            a batched `tf.data.Dataset` of features (anything
            `Normalization.adapt()` accepts). Larger-than-memory datasets are
            read batch by batch.
        axis: The axis (or axes) holding the features; statistics are taken
            over all other axes. `None` uses one mean and variance for
            everything. Defaults to `-1`.
        name: The layer's name. Defaults to `"standardization"`.

    Returns:
        An adapted `keras.layers.Normalization` layer.

    Raises:
        ValueError: If `data` is empty, or 1-D while `axis` is not `None`.

    Example:

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype="float32")
    >>> layer = standardization(x)
    >>> keras.ops.convert_to_numpy(layer(x)).round(3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    data = _as_array_if_pandas(data)
    _check_not_empty(data)
    _check_not_one_dimensional(data, axis)
    layer = keras.layers.Normalization(axis=axis, name=name)
    layer.adapt(data)
    return layer


def zero_centering(data, axis=-1, name="zero_centering"):
    """Returns a `Normalization` layer adapted to zero-center `data`.

    Each feature (each position along `axis`) is shifted by its mean on
    `data`; the scale is left as it is (the variance is fixed at 1). The
    mean is stored in the layer's config, so the layer saves with its model.

    Args:
        data: Training features of shape `(samples, features, ...)`: a NumPy
            array, a tensor, a pandas DataFrame (a Series is one feature), or
            a batched `tf.data.Dataset` of features (anything
            `Normalization.adapt()` accepts).
        axis: The axis (or axes) holding the features; means are taken over
            all other axes. `None` uses one mean for everything.
            Defaults to `-1`.
        name: The layer's name. Defaults to `"zero_centering"`.

    Returns:
        A `keras.layers.Normalization` layer that subtracts the mean.

    Raises:
        ValueError: If `data` is empty, or 1-D while `axis` is not `None`.

    Example:

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype="float32")
    >>> layer = zero_centering(x)
    >>> keras.ops.convert_to_numpy(layer(x)).tolist()
    [[-1.0, -10.0], [1.0, 10.0]]
    """
    adapted = standardization(data, axis=axis)
    # The adapted layer's "mean" weight has the kept axes' shape, the form
    # the constructor accepts (its broadcast `.mean` does not).
    weights = {weight.name: weight for weight in adapted.weights}
    mean = keras.ops.convert_to_numpy(weights["mean"])
    return keras.layers.Normalization(
        axis=axis, mean=mean, variance=np.ones_like(mean), name=name
    )


def _as_array_if_pandas(data):
    # `Normalization.adapt` iterates a DataFrame by column name; a Series is
    # one feature column, so it becomes shape (samples, 1).
    if isinstance(data, pd.Series):
        data = data.to_frame()
    return data.to_numpy() if isinstance(data, pd.DataFrame) else data


def _check_not_one_dimensional(data, axis):
    shape = getattr(data, "shape", None)
    if axis is not None and shape is not None and len(shape) == 1:
        raise ValueError(
            "1-D `data` would make each sample its own feature (and every output 0): "
            "expected a 2-D array of shape (samples, features), e.g. "
            "`data.reshape(-1, 1)` for a single feature, or `axis=None`. "
            f"Received: data.shape={tuple(shape)}"
        )


def _check_not_empty(data):
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) > 0 and shape[0] == 0:
        raise ValueError(
            "Expected `data` to hold at least one sample to compute "
            f"statistics from. Received: data.shape={tuple(shape)}"
        )
