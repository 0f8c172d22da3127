"""Zero-centering and standardization of input features (Keras `Normalization`).

Seed 003, "Data Preprocessing": zero-centering moves each feature's mean to
0; standardization also divides by each feature's standard deviation so all
features share one scale. Both are a `keras.layers.Normalization` adapted to
the training data, so they ride inside the model and save with it.
"""

import numpy as np
import pandas as pd
import tensorflow as tf
import keras


def standardization(data, axis=-1, name="standardization"):
    """Returns a `Normalization` layer adapted to standardize `data`.

    Each feature (each position along `axis`) is shifted to mean 0 and
    divided by its standard deviation, as measured on `data`. A feature
    constant in `data` (variance 0) is only shifted, as scikit-learn's
    `StandardScaler` does: its variance is stored as 1, so it is 0 on `data`
    and keeps its own scale on new data (dividing by a zero standard
    deviation would multiply any later change by about 1e7). The mean and
    variance are stored in the layer's config, so the layer saves with its
    model. Put the layer first in a model so the same statistics are applied
    at training and inference time.

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
        A `keras.layers.Normalization` layer holding the mean and variance
        of `data`.

    Raises:
        ValueError: If `data` holds no samples or a NaN or infinite value
            (a non-finite mean or variance), or is 1-D while `axis` is not
            `None`.

    Example:

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype="float32")
    >>> layer = standardization(x)
    >>> keras.ops.convert_to_numpy(layer(x)).round(3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    mean, variance = _adapted_statistics(data, axis)
    # scikit-learn's rule: a zero variance counts as 1, so the feature is only shifted.
    return keras.layers.Normalization(
        axis=axis, mean=mean, variance=np.where(variance > 0, variance, 1.0), name=name
    )


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
        ValueError: If `data` holds no samples or a NaN or infinite value,
            or is 1-D while `axis` is not `None`.

    Example:

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype="float32")
    >>> layer = zero_centering(x)
    >>> keras.ops.convert_to_numpy(layer(x)).tolist()
    [[-1.0, -10.0], [1.0, 10.0]]
    """
    mean, _ = _adapted_statistics(data, axis)
    return keras.layers.Normalization(
        axis=axis, mean=mean, variance=np.ones_like(mean), name=name
    )


def _adapted_statistics(data, axis):
    """The mean and variance of `data` per feature, as NumPy arrays of the kept axes' shape."""
    data = _as_array_if_pandas(data)
    _check_not_empty(data)
    _check_not_one_dimensional(data, axis)
    adapted = keras.layers.Normalization(axis=axis)
    adapted.adapt(data)
    # The adapted layer's "mean" and "variance" weights have the kept axes'
    # shape, the form the constructor accepts (its broadcast `.mean` does not).
    weights = {weight.name: keras.ops.convert_to_numpy(weight) for weight in adapted.weights}
    mean, variance = weights["mean"], weights["variance"]
    _check_finite(mean, variance)
    return mean, variance


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
    # A dataset without a single batch would leave the initial statistics
    # (mean 0, variance 0) in place; reading one batch is enough to know.
    if isinstance(data, tf.data.Dataset) and next(iter(data.take(1)), None) is None:
        raise ValueError(
            "Expected `data` to hold at least one sample to compute "
            f"statistics from. Received: an empty dataset, data={data!r}"
        )


def _check_finite(mean, variance):
    bad = ~(np.isfinite(mean) & np.isfinite(variance))
    if bad.any():
        # Feature indices (index tuples for several feature axes; "all" for `axis=None`).
        features = "all" if bad.ndim == 0 else [
            int(i[0]) if len(i) == 1 else tuple(int(j) for j in i) for i in np.argwhere(bad)
        ]
        raise ValueError(
            "Expected finite values in `data` (no NaN or infinity) to compute "
            "each feature's mean and variance from. Received: data with a "
            f"non-finite mean or variance at features={features}"
        )
