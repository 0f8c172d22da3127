"""DropConnect: a dense layer that drops individual weights, not units, while training."""

import keras

from keras_recipes.recipes._validation import check_positive_int, check_rate, check_seed


@keras.saving.register_keras_serializable(package="keras_recipes")
class DropConnect(keras.layers.Layer):
    """Densely-connected layer that randomly drops weights during training.

    DropConnect ([Wan et al., 2013](https://proceedings.mlr.press/v28/wan13.html))
    generalizes Dropout: instead of zeroing a unit's output, it zeroes each
    connection (kernel entry) with probability `rate`. The kept weights are
    scaled by `1 / (1 - rate)`, so the expected training output equals the
    inference output, and inference is exactly `Dense` with all weights
    (the paper's Gaussian moment-matching inference is not used).

    One mask is drawn per call, i.e. per batch, and shared by all examples of
    the batch: a mask per example would need a `(batch, input_dim, units)`
    tensor and a batched matmul, `batch` times the memory and compute. The
    bias is never dropped.

    Args:
        units: Positive integer, dimensionality of the output space.
        rate: Float in [0, 1), the probability of dropping each weight.
            Defaults to `0.5`.
        activation: Activation function to use. Defaults to `None` (linear).
        use_bias: Whether the layer uses a bias vector. Defaults to `True`.
        kernel_initializer: Initializer for the kernel. Defaults to
            `"glorot_uniform"`.
        bias_initializer: Initializer for the bias. Defaults to `"zeros"`.
        kernel_regularizer: Regularizer for the kernel. Defaults to `None`.
        bias_regularizer: Regularizer for the bias. Defaults to `None`.
        seed: Integer seed for the masks. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Raises:
        ValueError: if `units` is not a positive integer, `rate` is outside
            [0, 1) or `seed` is not an integer or `None`.

    Example:

    >>> import numpy as np
    >>> layer = DropConnect(4, rate=0.5, activation="relu")
    >>> layer(np.ones((2, 3)), training=True).shape
    (2, 4)
    """

    def __init__(
        self,
        units,
        rate=0.5,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.rate = check_rate("rate", rate)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def call(self, inputs, training=False):
        kernel = self.kernel
        if training and self.rate > 0:
            # keras.random.dropout already scales the kept entries by 1 / (1 - rate).
            kernel = keras.random.dropout(kernel, self.rate, seed=self.seed_generator)
        outputs = keras.ops.matmul(inputs, kernel)
        if self.bias is not None:
            outputs = keras.ops.add(outputs, self.bias)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "units": self.units,
            "rate": self.rate,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "seed": self.seed,
        }
        return {**base_config, **config}
