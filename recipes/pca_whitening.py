"""`PCAWhitening`: PCA decorrelation, reduction and PCA/ZCA whitening as a layer.

Seed 003, "PCA and Whitening": decorrelation rotates zero-centered data onto
the eigenvectors of its covariance; whitening also divides each eigen-axis by
the square root of its eigenvalue, so the covariance becomes the identity.
ZCA whitening rotates the whitened data back onto the input axes, which keeps
it as close to the input as a whitening can be.

`adapt()` accumulates the covariance batch by batch (see `_covariance.py`),
so it reads a `tf.data.Dataset` larger than memory in constant memory.
"""

import numbers

import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_recipes.recipes._covariance import (
    eigen_decomposition,
    feature_batches,
    streaming_covariance,
)
from keras_recipes.recipes._validation import check_choice, check_non_negative, check_positive_int

MODES = {
    "pca": "rotate onto the principal axes (decorrelate); variances are kept",
    "pca_whitening": "rotate onto the principal axes, scale each to variance 1",
    "zca_whitening": "whiten, then rotate back onto the input axes",
}


@keras.saving.register_keras_serializable(package="keras_recipes")
class PCAWhitening(keras.layers.Layer):
    """Decorrelates, reduces or whitens features with statistics from `adapt()`.

    Call `adapt(data)` on training features first: it stores the features'
    mean, the covariance eigenvectors (principal axes, by decreasing
    variance) and eigenvalues as non-trainable weights, so the layer saves
    and loads with its model. The layer counts as adapted once its
    eigenvectors are non-zero (an adaptation always leaves orthonormal
    ones), whether they came from `adapt()`, a saved file or `set_weights`
    on a clone (`keras.models.clone_model`). Then, for inputs `x` of shape
    `(batch, features)`, with `U` the kept eigenvectors and `L` their
    eigenvalues:

    - `"pca"`: `(x - mean) @ U` (decorrelated; variances `L`).
    - `"pca_whitening"`: `(x - mean) @ U / sqrt(L + epsilon)`.
    - `"zca_whitening"`: the PCA-whitened `x` times `U^T`, back on the input
      axes (the output keeps the input's width).

    Eigenvector signs are fixed so that each vector's largest entry is
    positive (scikit-learn's convention).

    Args:
        mode: One of `"pca"`, `"pca_whitening"`, `"zca_whitening"`.
            Defaults to `"pca_whitening"`.
        n_components: How many principal axes to keep: an integer count, a
            float in (0, 1) to keep the fewest axes that explain more than
            that fraction of the variance (decided by `adapt()`), or `None`
            for all. Defaults to `None`.
        epsilon: Added to each eigenvalue before its square root, so axes
            of (near) zero variance are not blown up. Defaults to `1e-5`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(500, 3)) @ [[2, 1, 0],
    ...     [0, 1, 0], [0, 0, 0.5]]
    >>> layer = PCAWhitening(mode="zca_whitening")
    >>> layer.adapt(x)
    >>> y = keras.ops.convert_to_numpy(layer(x))
    >>> np.allclose(np.cov(y, rowvar=False), np.eye(3), atol=1e-2)
    True
    """

    def __init__(
        self, mode="pca_whitening", n_components=None, epsilon=1e-5, **kwargs
    ):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, MODES)
        self.n_components = _check_n_components(n_components)
        self.epsilon = check_non_negative("epsilon", epsilon)
        # A fractional `n_components` is resolved to a count by `adapt()`.
        self._kept = None if isinstance(self.n_components, float) else self.n_components
        self._is_adapted = False

    def build(self, input_shape):
        features = input_shape[-1]
        kept = self._components_for(features)
        self.mean = self.add_weight(
            name="mean", shape=(features,), initializer="zeros",
            trainable=False,
        )
        self.eigenvectors = self.add_weight(
            name="eigenvectors", shape=(features, kept), initializer="zeros",
            trainable=False,
        )
        self.eigenvalues = self.add_weight(
            name="eigenvalues", shape=(features,), initializer="zeros",
            trainable=False,
        )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: features})

    def adapt(self, data, steps=None):
        """Computes the mean and the covariance eigenbasis of `data`.

        Args:
            data: Features of shape `(samples, features)`: a NumPy array, a
                tensor, or a `tf.data.Dataset` yielding feature batches (or
                `(features, labels)` pairs, whose labels are ignored).
            steps: The number of dataset batches to read, for repeated
                datasets; `None` reads until the dataset ends.
                Defaults to `None`.

        Raises:
            ValueError: If `data` is not 2-D features, holds fewer than two
                samples or non-finite values, or has fewer features than
                `n_components`, or `steps` is not a positive integer.
        """
        if steps is not None:
            check_positive_int("steps", steps)
        mean, covariance = streaming_covariance(feature_batches(data, steps))
        eigenvalues, eigenvectors = eigen_decomposition(covariance)
        kept = _components_to_keep(self.n_components, eigenvalues)
        if not self.built:
            self._kept = kept
            self.build((None, len(mean)))
        _check_fits_built_layer(self, mean, kept)
        self.mean.assign(mean)
        self.eigenvectors.assign(eigenvectors[:, :kept])
        self.eigenvalues.assign(eigenvalues)
        self._is_adapted = True

    def call(self, inputs):
        if not self._holds_adaptation():
            raise ValueError(
                "PCAWhitening must be adapted before it is called: call "
                "`layer.adapt(data)` on training features first. "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        x = ops.cast(inputs, self.compute_dtype)
        vectors = ops.cast(self.eigenvectors, x.dtype)
        projected = ops.matmul(x - ops.cast(self.mean, x.dtype), vectors)
        if self.mode == "pca":
            return projected
        values = ops.cast(self.eigenvalues[: vectors.shape[1]], x.dtype)
        whitened = projected / ops.sqrt(values + self.epsilon)
        if self.mode == "pca_whitening":
            return whitened
        return ops.matmul(whitened, ops.transpose(vectors))

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        if self.mode == "zca_whitening":
            return tuple(input_shape)
        return (*input_shape[:-1], self._components_for(features))

    @property
    def explained_variance_ratio(self):
        """NumPy array: each kept axis's share of the total variance."""
        if not self._holds_adaptation():
            raise ValueError(
                "PCAWhitening has no explained variance before `adapt(data)`. "
                f"Received: a layer that was not adapted (name={self.name!r})"
            )
        values = keras.ops.convert_to_numpy(self.eigenvalues)
        total = values.sum()
        kept = self.eigenvectors.shape[1]
        return values[:kept] / total if total > 0 else np.zeros(kept)

    def get_config(self):
        config = {
            "mode": self.mode,
            "n_components": self.n_components,
            "epsilon": self.epsilon,
            # The resolved count, so that `from_config` (and so
            # `clone_model`) builds weights of the adapted shapes.
            "components": self.eigenvectors.shape[1] if self.built else self._kept,
        }
        base_config = super().get_config()
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        # Configs saved before "components" existed lack it; their build
        # config carries the count instead (see `build_from_config`).
        config = dict(config)
        components = config.pop("components", None)
        layer = super().from_config(config)
        if components is not None:
            layer._kept = components
        return layer

    def get_build_config(self):
        # The kept count can depend on the data (fractional `n_components`),
        # and the weights' shapes depend on it: save it with the input shape.
        config = super().get_build_config()
        if config is not None:
            config["components"] = self.eigenvectors.shape[1]
        return config

    def build_from_config(self, config):
        if config:
            self._kept = config["components"]
        super().build_from_config(config)

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._is_adapted = self._holds_adaptation()

    def _holds_adaptation(self):
        """Whether the weights hold statistics: from `adapt`, a file or `set_weights`."""
        if self._is_adapted or not self.built:
            return self._is_adapted
        # `model.set_weights` assigns the variables without telling the
        # layer, so read them; `init_scope` reads their current value even
        # while Keras traces `predict` into a graph.
        with tf.init_scope():
            vectors = keras.ops.convert_to_numpy(self.eigenvectors)
        self._is_adapted = bool(np.any(vectors))
        return self._is_adapted

    def _components_for(self, features):
        if self._kept is None and self.n_components is not None:
            raise ValueError(
                "PCAWhitening with a fractional `n_components` picks the "
                "number of components from the data: call `adapt(data)` "
                "before using the layer in a model. "
                f"Received: n_components={self.n_components}"
            )
        kept = features if self._kept is None else self._kept
        _check_components_fit(kept, features)
        return kept


def _check_n_components(value):
    """Returns None, a count as an int or a fraction as a float (NumPy scalars are numbers too)."""
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral) and value >= 1:
            return int(value)
        if not isinstance(value, numbers.Integral) and 0.0 < value < 1.0:
            return float(value)
    raise ValueError(
        "Invalid value for argument `n_components`: expected an integer >= 1, "
        "a float in (0, 1) (fraction of explained variance), or None. "
        f"Received: n_components={value!r}"
    )


def _check_components_fit(kept, features):
    if kept > features:
        raise ValueError(
            "Invalid value for argument `n_components`: expected at most the "
            f"number of input features ({features}). "
            f"Received: n_components={kept}"
        )


def _check_fits_built_layer(layer, mean, kept):
    expected = (layer.mean.shape[0], layer.eigenvectors.shape[1])
    if (len(mean), kept) != expected:
        raise ValueError(
            "The adapted data does not fit the already built layer: expected "
            f"{expected[0]} features and {expected[1]} components. "
            f"Received: features={len(mean)}, components={kept}"
        )


def _components_to_keep(n_components, eigenvalues):
    features = len(eigenvalues)
    if n_components is None:
        return features
    if isinstance(n_components, float):
        total = eigenvalues.sum()
        if total <= 0:
            return 1
        explained = np.cumsum(eigenvalues) / total
        # Same rule as scikit-learn: the fewest axes explaining MORE than it.
        return int(min(np.searchsorted(explained, n_components, "right") + 1,
                       features))
    _check_components_fit(n_components, features)
    return n_components
