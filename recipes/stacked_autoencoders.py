"""Stacked (denoising) autoencoders: greedy layer-wise pretraining, then fine-tuning (seed 004).

Seed 004's steps: train autoencoder 1 on the inputs; train autoencoder 2 on autoencoder 1's
codes; repeat; stack the trained encoders, add a softmax output layer and fine-tune the whole
network with labels. With corruption at each stage this is a stacked denoising autoencoder
(Vincent et al., 2010).
"""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_recipes.recipes._validation import (
    check_choice,
    check_fit_kwargs,
    check_hidden_units,
    check_input_shape,
    check_positive_int,
    short_repr,
)
from keras_recipes.recipes.autoencoders import NOISE_KINDS, _corruption
from keras_recipes.recipes.build_for_training import build_where_possible
from keras_recipes.recipes.dense_block import dense_block
from keras_recipes.recipes.initializers import (
    INITIALIZER_FOR_ACTIVATION,
    initializer_for,
    with_layer_initializer,
)
from keras_recipes.recipes.optimizers import OPTIMIZERS, make_optimizer


def stacked_autoencoder(input_shape, hidden_units, classes, *, activation="relu",
                        name="stacked_autoencoder", **block_kwargs):
    """Builds the classifier of a stacked autoencoder: encoders `encoder_1..k` and a head.

    Each hidden layer is its own nested model `encoder_<i>` (one
    `dense_block`), so `greedy_pretrain` can train it as the encoder of a
    one-layer autoencoder and the trained weights are already in place.

    Args:
        input_shape: Shape of one example, e.g. `(64,)`.
        hidden_units: Units of the stacked encoders, e.g. `[48, 24]`.
        classes: Number of classes: a softmax output (a sigmoid unit for 1).
        activation: Activation of the encoders. Defaults to `"relu"`.
        name: The model's name. Defaults to `"stacked_autoencoder"`.
        **block_kwargs: Passed to every `dense_block` (`batch_norm`,
            `dropout`, `l1`, `l2`, `kernel_initializer`). Each layer gets
            its own copy of an initializer instance, a seeded one with the
            seed plus the layer's position, so same-shaped layers differ.

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: for a bad shape, unit list, class count or activation.

    Example:

    >>> model = stacked_autoencoder((64,), [48, 24], classes=10)
    >>> [layer.name for layer in model.layers[1:]]
    ['encoder_1', 'encoder_2', 'output']
    """
    shape, units = check_input_shape(input_shape), check_hidden_units(hidden_units)
    classes = check_positive_int("classes", classes)
    inputs = keras.Input(shape=shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, width in enumerate(units, start=1):
        stage_inputs = keras.Input(shape=(x.shape[-1],))
        stage = dense_block(stage_inputs, width, activation=activation, name=f"encode_{i}",
                            **with_layer_initializer(block_kwargs, i - 1))
        x = keras.Model(stage_inputs, stage, name=f"encoder_{i}")(x)
    head = "softmax" if classes > 1 else "sigmoid"
    outputs = keras.layers.Dense(classes, activation=head, kernel_initializer=initializer_for(head),
                                 name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def _stage_encoders(model):
    encoders = [
        layer for layer in model.layers
        if layer.name.startswith("encoder_") and layer.name.rpartition("_")[2].isdigit()
    ]
    if not encoders:
        raise ValueError(
            "Expected a model built by `stacked_autoencoder`, with nested models named "
            f"encoder_1, encoder_2, ... Received: model={model.name!r}"
        )
    return sorted(encoders, key=lambda layer: int(layer.name.rpartition("_")[2]))


def _stage_autoencoder(encoder, noise, noise_level, output_activation):
    """A one-hidden-layer autoencoder around `encoder` (shared, not copied)."""
    inputs = keras.Input(shape=encoder.input_shape[1:])
    x = inputs if noise is None else _corruption(noise, noise_level)(inputs)
    size = encoder.input_shape[-1]
    reconstruction = keras.layers.Dense(
        size, activation=output_activation, kernel_initializer=initializer_for(output_activation)
    )(encoder(x))
    return keras.Model(inputs, reconstruction, name=f"{encoder.name}_autoencoder")


def greedy_pretrain(model, x, *, epochs=10, batch_size=32, noise=None, noise_level=0.1,
                    optimizer="adam", learning_rate=1e-3, output_activation="sigmoid", verbose=0):
    """Pretrains a `stacked_autoencoder`'s encoders greedily, one layer at a time.

    Stage `i` trains `encoder_<i>` with a fresh decoder layer to reconstruct
    its own input: the data for stage 1, the codes of the already trained
    encoders for later stages (computed once per stage). With `noise`, each
    stage's input is corrupted in training (a stacked denoising
    autoencoder). The model's encoders are trained in place; the output
    layer is left for fine-tuning.

    Args:
        model: A model from `stacked_autoencoder`.
        x: Training inputs, a NumPy array or tensor (not a
            `tf.data.Dataset`: each stage encodes the whole input); labels
            are not used.
        epochs: Epochs per stage. Defaults to `10`.
        batch_size: Batch size, an integer >= 1. Defaults to `32`.
        noise: `None` or a kind from `NOISE_KINDS`. Defaults to `None`.
        noise_level: Gaussian stddev or masked fraction. Defaults to `0.1`.
        optimizer: An optimizer name from `OPTIMIZERS` (a fresh one per
            stage). Defaults to `"adam"`.
        learning_rate: Learning rate of each stage. Defaults to `1e-3`.
        output_activation: Stage 1's reconstruction activation (`"sigmoid"`
            for inputs in [0, 1]); later stages reconstruct unbounded codes
            with `"linear"`. Defaults to `"sigmoid"`.
        verbose: Passed to `fit`. Defaults to `0`.

    Returns:
        A pandas DataFrame with one row per stage and epoch: `stage`,
        `units`, `epoch` and the reconstruction `loss` (mean squared error).

    Raises:
        ValueError: if `model` has no `encoder_<i>` layers, `x` is a
            `tf.data.Dataset` or its examples do not have the width
            `encoder_1` takes, or for a bad `epochs`, `batch_size`, `noise`,
            `noise_level`, `optimizer` or `learning_rate`.

    Example:

    >>> model = stacked_autoencoder((64,), [32, 16], classes=10)
    >>> history = greedy_pretrain(model, np.random.rand(64, 64), epochs=1)
    """
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    if noise is not None:
        check_choice("noise", noise, NOISE_KINDS)
    check_choice("output_activation", output_activation, INITIALIZER_FOR_ACTIVATION)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    encoders = _stage_encoders(model)
    codes = _flat_inputs(x)
    _check_width(codes, np.shape(x), encoders[0])
    rows = []
    for stage, encoder in enumerate(encoders, start=1):
        activation = output_activation if stage == 1 else "linear"
        stage_model = _stage_autoencoder(encoder, noise, noise_level, activation)
        stage_model.compile(optimizer=make_optimizer(optimizer, learning_rate), loss="mse")
        build_where_possible(stage_model, codes, codes)
        losses = stage_model.fit(codes, codes, epochs=epochs, batch_size=batch_size,
                                 verbose=verbose).history["loss"]
        units = encoder.output_shape[-1]
        rows += [(stage, units, epoch, loss) for epoch, loss in enumerate(losses, start=1)]
        codes = _encode(encoder, codes, max(batch_size, 256))
    return pd.DataFrame(rows, columns=["stage", "units", "epoch", "loss"])


def _flat_inputs(x):
    """`x` as a float32 array of shape `(samples, features)`."""
    if isinstance(x, tf.data.Dataset):
        # Each stage trains on codes computed from all the inputs at once.
        raise ValueError(
            "Expected `x` as an array of training inputs (a NumPy array or "
            "tensor); a `tf.data.Dataset` cannot be pretrained on, as each "
            "stage needs the codes of the whole input. "
            f"Received: x={x!r}"
        )
    return np.reshape(np.asarray(x, dtype="float32"), (len(x), -1))


def _check_width(codes, x_shape, encoder):
    """Checks that the flattened examples have the width the first encoder takes."""
    expected = encoder.input_shape[-1]
    if expected is not None and codes.shape[1] != expected:
        raise ValueError(
            f"Expected `x` with {expected} features per example (flattened), the input "
            f"width of `{encoder.name}`; got {codes.shape[1]}. Received: x.shape={x_shape}"
        )


def _check_input_shape(model, x_shape):
    """Checks the shape of the examples against the model's input (unknown sizes match any)."""
    expected = tuple(model.input_shape[1:])
    received = x_shape[1:]
    if len(received) != len(expected) or any(
        size is not None and size != got for size, got in zip(expected, received)
    ):
        raise ValueError(
            f"Expected `x` with examples of shape {expected}, the input shape of "
            f"`{model.name}`. Received: x.shape={x_shape}"
        )


def _check_labels(y, x_shape, classes):
    """Checks one integer class label in [0, classes) (0 or 1 for one unit) per example."""
    labels = np.asarray(y)
    if labels.ndim not in (1, 2) or labels.ndim == 2 and labels.shape[1] != 1:
        raise ValueError(
            "Expected `y` to hold integer class labels of shape (samples,) or "
            "(samples, 1), not one-hot rows. "
            f"Received: y.shape={labels.shape}"
        )
    if len(labels) != x_shape[0]:
        raise ValueError(
            "Expected one label per example of `x`. "
            f"Received: y.shape={labels.shape}, x.shape={x_shape}"
        )
    if labels.dtype == bool:
        return
    limit = max(classes, 2)
    real = np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)
    if not real or labels.size and not (
        np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < limit
    ):
        raise ValueError(
            f"Expected `y` to hold integer class labels in [0, {limit}). "
            f"Received: y={short_repr(y)}"
        )


def _encode(encoder, codes, batch_size):
    """`encoder`'s outputs in inference mode, batch by batch and eagerly:
    `predict` would trace a new function for every stage (and TF warns
    about the retracing)."""
    return np.concatenate([
        keras.ops.convert_to_numpy(encoder(codes[start : start + batch_size], training=False))
        for start in range(0, len(codes), batch_size)
    ])


def train_stacked_autoencoder(model, x, y, *, pretrain_epochs=10, epochs=10, batch_size=32,
                              noise=None, noise_level=0.1, optimizer="adam", learning_rate=1e-3,
                              verbose=0, **fit_kwargs):
    """Seed 004's whole recipe: greedy layer-wise pretraining, then supervised fine-tuning.

    Runs `greedy_pretrain` on `x`, then compiles `model` (sparse categorical
    cross-entropy for integer labels, or binary cross-entropy for one
    sigmoid unit; accuracy) and fine-tunes every layer on `(x, y)`.

    Args:
        model: A model from `stacked_autoencoder`.
        x: Training inputs, a NumPy array or tensor.
        y: Integer class labels in [0, classes) (0 or 1 for one sigmoid
            unit), one per example, of shape `(samples,)` or
            `(samples, 1)`.
        pretrain_epochs: Epochs per pretraining stage. Defaults to `10`.
        epochs: Fine-tuning epochs. Defaults to `10`.
        batch_size: Batch size of both phases. Defaults to `32`.
        noise: `None` or a kind from `NOISE_KINDS`, for denoising
            pretraining. Defaults to `None`.
        noise_level: Gaussian stddev or masked fraction. Defaults to `0.1`.
        optimizer: Optimizer name from `OPTIMIZERS`. Defaults to `"adam"`.
        learning_rate: Learning rate of both phases. Defaults to `1e-3`.
        verbose: Passed to `fit`. Defaults to `0`.
        **fit_kwargs: Further arguments of the fine-tuning `fit`
            (`validation_data`, `callbacks`, ...). Their names,
            `validation_split` and `callbacks` are checked before
            pretraining.

    Returns:
        `(pretraining, history)`: the DataFrame from `greedy_pretrain` and
        the fine-tuning `History`.

    Raises:
        ValueError: for a bad `pretrain_epochs`, `epochs`, `batch_size`,
            `y`, shape of `x`, unknown `fit` argument, `validation_split`
            or `callbacks` (checked before any training, so the model is
            left as it was), and whatever `greedy_pretrain` rejects.

    Example:

    >>> model = stacked_autoencoder((64,), [32], classes=2)
    >>> pretraining, history = train_stacked_autoencoder(
    ...     model, np.random.rand(64, 64), np.arange(64) % 2, pretrain_epochs=1, epochs=1)
    """
    epochs = check_positive_int("epochs", epochs)
    # Checked here too, so the message names this function's arguments.
    pretrain_epochs = check_positive_int("pretrain_epochs", pretrain_epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    # Checked before pretraining, which changes the model's weights in place.
    check_fit_kwargs(fit_kwargs, set_here=("x", "y", "epochs", "batch_size", "verbose"))
    _flat_inputs(x)  # refuses a dataset before its length is asked for
    x_shape = tuple(np.shape(x))
    _check_input_shape(model, x_shape)
    _check_labels(y, x_shape, model.output_shape[-1])
    pretraining = greedy_pretrain(
        model, x, epochs=pretrain_epochs, batch_size=batch_size, noise=noise,
        noise_level=noise_level, optimizer=optimizer, learning_rate=learning_rate, verbose=verbose,
    )
    binary = model.output_shape[-1] == 1
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    build_where_possible(model, x, y, fit_kwargs.get("sample_weight"))
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, **fit_kwargs)
    return pretraining, history
