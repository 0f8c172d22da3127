"""Dense autoencoders (seed 004): plain and denoising, with the encoder and decoder as models.

An autoencoder learns to output its own input through a narrower code layer; the code is the
learned feature. A denoising autoencoder (Vincent et al., 2008) sees a corrupted input while
training, `x~ = x + noise` or `x` with a random fraction of entries zeroed, and must still
reconstruct the clean `x`. Corruption is a training-only layer in front of the encoder, so the
encoder and decoder themselves stay clean and the model is an identity-seeking map at inference.
"""

import math

import keras
from keras import ops

from keras_recipes.recipes._validation import (
    check_choice,
    check_hidden_units,
    check_input_shape,
    check_positive,
    check_rate,
    check_seed,
)
from keras_recipes.recipes.dense_block import dense_block
from keras_recipes.recipes.initializers import (
    INITIALIZER_FOR_ACTIVATION,
    initializer_for,
    with_layer_initializer,
)


@keras.saving.register_keras_serializable(package="keras_recipes")
class MaskingNoise(keras.layers.Layer):
    """Sets a random fraction of the input entries to zero, in training only.

    The masking corruption of denoising autoencoders. Unlike `Dropout`, the
    kept entries are not rescaled: the decoder must restore the lost values,
    not undo a scaling.

    Args:
        rate: Fraction of entries to zero, in [0, 1). Defaults to `0.25`.
        seed: Integer seed for the masks. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Raises:
        ValueError: if `rate` is outside [0, 1) or `seed` is not an integer
            or `None`.

    Example:

    >>> import numpy as np
    >>> MaskingNoise(0.5)(np.ones((2, 4)), training=True).shape
    (2, 4)
    """

    def __init__(self, rate=0.25, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator)
        return inputs * ops.cast(noise >= self.rate, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_recipes")
class Autoencoder(keras.Model):
    """A functional autoencoder whose nested `encoder` and `decoder` are reachable as models.

    Built by `autoencoder` and `denoising_autoencoder`; after
    `keras.models.load_model` the properties still work.
    """

    @property
    def encoder(self):
        """The model from the (clean) input to the code."""
        return self.get_layer("encoder")

    @property
    def decoder(self):
        """The model from the code to the reconstruction."""
        return self.get_layer("decoder")


def _corruption(noise, noise_level):
    if noise == "gaussian":
        return keras.layers.GaussianNoise(check_positive("noise_level", noise_level),
                                          name="corruption")
    return MaskingNoise(check_rate("noise_level", noise_level), name="corruption")


# Corruption kinds for denoising: Gaussian noise of stddev `noise_level` (Keras' own layer), or
# masking noise zeroing a fraction `noise_level` of the entries.
NOISE_KINDS = ("gaussian", "masking")


def autoencoder(
    input_shape,
    hidden_units,
    *,
    activation="relu",
    output_activation="sigmoid",
    noise=None,
    noise_level=0.1,
    name="autoencoder",
    **block_kwargs,
):
    """Builds a symmetric dense autoencoder.

    The encoder stacks `dense_block`s of `hidden_units` (the last one is the
    code); the decoder mirrors them (`hidden_units[-2::-1]`) and ends in a
    dense layer of the input's size, reshaped back to `input_shape`.

    Args:
        input_shape: Shape of one example, e.g. `(64,)` or `64`.
        hidden_units: Units of the encoder's layers, widest first, e.g.
            `[32, 16]`; the last entry is the code size.
        activation: Activation of the hidden and code layers. Defaults to
            `"relu"`.
        output_activation: Activation of the reconstruction, a name from
            `INITIALIZER_FOR_ACTIVATION`: `"sigmoid"` for inputs in [0, 1],
            `"linear"` for unbounded inputs. Defaults to `"sigmoid"`.
        noise: `None`, or a kind from `NOISE_KINDS` to corrupt the input in
            training (see `denoising_autoencoder`). Defaults to `None`.
        noise_level: Gaussian stddev (> 0) or masked fraction (in [0, 1)).
            Defaults to `0.1`.
        name: The model's name. Defaults to `"autoencoder"`.
        **block_kwargs: Passed to every `dense_block` (`batch_norm`,
            `dropout`, `l1`, `l2`, `kernel_initializer`). Each layer gets
            its own copy of an initializer instance, a seeded one with the
            seed plus the layer's position, so same-shaped layers differ.

    Returns:
        An uncompiled `Autoencoder` (a functional model) with `.encoder` and
        `.decoder`. Compile it with a reconstruction loss such as `"mse"` and
        fit it with `x` as both input and target.

    Raises:
        ValueError: for a bad shape, unit list, activation, noise kind or level.

    Example:

    >>> model = autoencoder((64,), [32, 8])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.encoder.output.shape
    (None, 8)
    """
    shape, units = check_input_shape(input_shape), check_hidden_units(hidden_units)
    check_choice("output_activation", output_activation, INITIALIZER_FOR_ACTIVATION)
    if noise is not None:
        check_choice("noise", noise, NOISE_KINDS)
    size = math.prod(shape)
    encoder = _encoder(shape, units, activation, block_kwargs)
    decoder = _decoder(units, size, shape, activation, output_activation, block_kwargs)
    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs if noise is None else _corruption(noise, noise_level)(inputs)
    return Autoencoder(inputs, decoder(encoder(x)), name=name)


def _encoder(shape, units, activation, block_kwargs):
    inputs = keras.Input(shape=shape)
    x = keras.layers.Flatten()(inputs) if len(shape) > 1 else inputs
    for i, width in enumerate(units, start=1):
        x = dense_block(x, width, activation=activation, name=f"encode_{i}",
                        **with_layer_initializer(block_kwargs, i - 1))
    return keras.Model(inputs, x, name="encoder")


def _decoder(units, size, shape, activation, output_activation, block_kwargs):
    code = keras.Input(shape=(units[-1],))
    x = code
    for i, width in enumerate(units[-2::-1], start=1):
        # Seed offsets continue after the encoder's layers.
        x = dense_block(x, width, activation=activation, name=f"decode_{i}",
                        **with_layer_initializer(block_kwargs, len(units) + i - 1))
    x = keras.layers.Dense(
        size, activation=output_activation,
        kernel_initializer=initializer_for(output_activation), name="reconstruction",
    )(x)
    if len(shape) > 1:
        x = keras.layers.Reshape(shape)(x)
    return keras.Model(code, x, name="decoder")


def denoising_autoencoder(input_shape, hidden_units, *, noise="gaussian", noise_level=0.1,
                          **autoencoder_kwargs):
    """Builds an autoencoder that learns to reconstruct clean inputs from corrupted ones.

    The input is corrupted in training only, by Keras' `GaussianNoise`
    (`noise="gaussian"`, stddev `noise_level`) or by `MaskingNoise`
    (`noise="masking"`, a fraction `noise_level` of the entries set to 0);
    the target stays the clean input: `model.fit(x, x)`.

    Args:
        input_shape: Shape of one example.
        hidden_units: Units of the encoder's layers; the last is the code size.
        noise: One of `NOISE_KINDS`. Defaults to `"gaussian"`.
        noise_level: Gaussian stddev (> 0) or masked fraction (in [0, 1)).
            Defaults to `0.1`.
        **autoencoder_kwargs: Passed to `autoencoder` (`activation`,
            `output_activation`, `name`, `dense_block` arguments).

    Returns:
        An uncompiled `Autoencoder` with `.encoder` and `.decoder`.

    Raises:
        ValueError: for a bad noise kind or level, or a bad `autoencoder` argument.

    Example:

    >>> model = denoising_autoencoder((64,), [32], noise="masking", noise_level=0.3)
    """
    check_choice("noise", noise, NOISE_KINDS)
    autoencoder_kwargs.setdefault("name", "denoising_autoencoder")
    return autoencoder(input_shape, hidden_units, noise=noise, noise_level=noise_level,
                       **autoencoder_kwargs)
