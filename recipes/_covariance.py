"""Streaming mean and covariance of feature batches, and its eigenbasis.

The covariance is accumulated batch by batch in float64: the count, the sum
and the sum of outer products of the rows, each row first shifted by the
first batch's mean (so large offsets do not cancel catastrophically). Memory
stays at one batch plus a features x features matrix, however much data
streams through.
"""

import numpy as np
import tensorflow as tf
import keras

# Rows per step when adapting to an in-memory array (bounds the float64 copy).
_ARRAY_CHUNK_ROWS = 4096
# Rows per step when a dataset yields single samples rather than batches.
_UNBATCHED_DATASET_BATCH = 1024


def feature_batches(data, steps):
    """Yields float64 NumPy batches of shape (rows, features)."""
    if isinstance(data, tf.data.Dataset):
        source = _dataset_batches(data, steps)
    elif isinstance(data, np.ndarray) or keras.ops.is_tensor(data):
        array = keras.ops.convert_to_numpy(data)
        _check_rank(array.shape)
        source = (
            array[start : start + _ARRAY_CHUNK_ROWS]
            for start in range(0, len(array), _ARRAY_CHUNK_ROWS)
        )
    else:
        raise ValueError(
            "Expected `data` to be a NumPy array, a tensor or a "
            f"`tf.data.Dataset`. Received: data={type(data).__name__}"
        )
    for batch in source:
        batch = np.asarray(batch, dtype="float64")
        _check_rank(batch.shape)
        yield batch


def _dataset_batches(dataset, steps):
    spec = dataset.element_spec
    if isinstance(spec, tuple) and spec:
        dataset = dataset.map(lambda features, *labels: features)
        spec = spec[0]
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(
            "Expected the dataset to yield feature tensors or "
            f"(features, labels) tuples. Received: element_spec={spec}"
        )
    if spec.shape.rank == 1:
        dataset = dataset.batch(_UNBATCHED_DATASET_BATCH)
    if steps is not None:
        dataset = dataset.take(steps)
    return dataset.as_numpy_iterator()


def _check_rank(shape):
    if len(shape) != 2:
        raise ValueError(
            "Expected features of shape (samples, features). "
            f"Received: data.shape={tuple(shape)}"
        )


def streaming_covariance(batches):
    """Returns the mean and the sample covariance (n - 1) of the batches."""
    count, shift, total, outer = 0, None, None, None
    for batch in batches:
        if not np.isfinite(batch).all():
            raise ValueError(
                "Expected finite feature values. Received: data containing "
                "NaN or infinity"
            )
        if shift is None:
            shift = batch.mean(axis=0)
            total, outer = np.zeros_like(shift), np.zeros((len(shift),) * 2)
        _check_same_width(batch, len(shift))
        centered = batch - shift
        count += len(batch)
        total += centered.sum(axis=0)
        outer += centered.T @ centered
    if count < 2:
        raise ValueError(
            "Expected at least 2 samples to estimate a covariance. "
            f"Received: {count} samples"
        )
    offset = total / count
    covariance = (outer - count * np.outer(offset, offset)) / (count - 1)
    return shift + offset, covariance


def _check_same_width(batch, features):
    if batch.shape[1] != features:
        raise ValueError(
            f"Expected every batch to have {features} features. "
            f"Received: batch.shape={batch.shape}"
        )


def eigen_decomposition(covariance):
    """Eigenvalues (descending, >= 0) and eigenvectors (columns, sign-fixed)."""
    values, vectors = np.linalg.eigh(covariance)
    values, vectors = np.clip(values[::-1], 0.0, None), vectors[:, ::-1]
    largest = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[largest, np.arange(vectors.shape[1])])
    return values, vectors * np.where(signs == 0, 1.0, signs)
