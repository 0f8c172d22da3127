"""`mixup` and `cutmix`: batch-mixing augmentations for `tf.data` pipelines.

Seed 003, "Mixup" and "Cutmix": train on blends of two images, with the
target labels blended in the same proportion; test on the original images.
MixUp blends whole images (`lam * x_i + (1 - lam) * x_j`); CutMix pastes a
random rectangle of `x_j` into `x_i` and weighs the labels by the pasted
area. Both are Keras' own `MixUp` / `CutMix` layers mapped over the batches
of a dataset, after turning integer labels into one-hot vectors.
"""

import tensorflow as tf
import keras

from keras_recipes.recipes._validation import (
    check_positive,
    check_positive_int,
    check_seed,
    short_repr,
)

# The mixing layers compute in float32 whatever the global dtype policy: under
# "mixed_float16", Keras' `MixUp` multiplies float16 images by float32 weights
# and `CutMix` builds a float16 `range`, both refused by TensorFlow.
_MIXING_DTYPE = "float32"


def mixup(dataset, alpha=0.2, num_classes=None, seed=None):
    """Returns `dataset` with each batch blended by MixUp.

    Each image is blended with another image of the same batch,
    `lam * x_i + (1 - lam) * x_j` with `lam ~ Beta(alpha, alpha)`, and its
    label becomes `lam * y_i + (1 - lam) * y_j`, so the label weights equal
    the pixel weights. Apply it to the training dataset only: evaluate and
    predict on the original images. Train with a loss that takes soft
    labels, such as `"categorical_crossentropy"`.

    Args:
        dataset: A batched `tf.data.Dataset` of `(images, labels)` with
            images of shape `(batch, height, width, channels)` and labels
            either one-hot `(batch, classes)` floats or integer class ids
            (then pass `num_classes`).
        alpha: The Beta distribution's parameter, > 0; small values keep
            most images nearly unmixed. Defaults to `0.2`.
        num_classes: Number of classes, to one-hot integer labels; `None`
            for one-hot labels. Defaults to `None`.
        seed: Integer seed, or `None`. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of `(mixed_images, mixed_one_hot_labels)`.

    Raises:
        ValueError: If the dataset is not batched `(images, labels)`, the
            labels are integers without `num_classes`, or `alpha <= 0`.

    Example:

    >>> images = np.random.rand(32, 8, 8, 1).astype("float32")
    >>> labels = np.arange(32) % 4
    >>> train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    >>> train = mixup(train, alpha=0.2, num_classes=4)
    >>> [tuple(part.shape) for part in next(iter(train))]
    [(8, 8, 8, 1), (8, 4)]
    """
    alpha = check_positive("alpha", alpha)
    layer = keras.layers.MixUp(alpha=alpha, seed=check_seed(seed), dtype=_MIXING_DTYPE)
    return _mix_batches(dataset, layer, num_classes)


def cutmix(dataset, alpha=1.0, num_classes=None, seed=None):
    """Returns `dataset` with each batch mixed by CutMix.

    A random rectangle of another image of the batch is pasted into each
    image; its side is `sqrt(1 - lam)` of the image's with
    `lam ~ Beta(alpha, alpha)`. Each label becomes
    `(1 - area) * y_i + area * y_j`, where `area` is the fraction of pixels
    actually pasted. Apply it to the training dataset only.

    Args:
        dataset: A batched `tf.data.Dataset` of `(images, labels)` with
            images of shape `(batch, height, width, channels)` and labels
            either one-hot `(batch, classes)` floats or integer class ids
            (then pass `num_classes`).
        alpha: The Beta distribution's parameter, in (0, 1]; `1.0` (the
            CutMix paper's choice) draws the pasted area uniformly.
            Defaults to `1.0`.
        num_classes: Number of classes, to one-hot integer labels; `None`
            for one-hot labels. Defaults to `None`.
        seed: Integer seed, or `None`. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of `(mixed_images, mixed_one_hot_labels)`.

    Raises:
        ValueError: If the dataset is not batched `(images, labels)`, the
            labels are integers without `num_classes`, or `alpha` is not
            in (0, 1].

    Example:

    >>> images = np.random.rand(32, 8, 8, 1).astype("float32")
    >>> labels = np.arange(32) % 4
    >>> train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    >>> train = cutmix(train, num_classes=4)
    >>> [tuple(part.shape) for part in next(iter(train))]
    [(8, 8, 8, 1), (8, 4)]
    """
    alpha = check_positive("alpha", alpha)
    if alpha > 1.0:
        raise ValueError(
            "Invalid value for argument `alpha`: expected a number in (0, 1] "
            f"(Keras' CutMix factor range). Received: alpha={alpha!r}"
        )
    layer = _PastedAreaCutMix(
        factor=(alpha, alpha), seed=check_seed(seed), name="cut_mix", dtype=_MIXING_DTYPE
    )
    return _mix_batches(dataset, layer, num_classes)


class _PastedAreaCutMix(keras.layers.CutMix):
    """Keras' `CutMix`, with label weights equal to the pasted pixel share.

    Keras 3.15's `CutMix` weighs labels by the area of the continuous box it
    draws, but pastes whole pixels inside that box; on small images the two
    differ a lot (up to 0.23 measured on 8x8 images). Here the weight is read
    from the layer's own paste mask. The mask key is an internal detail of
    `CutMix.get_random_transformation`, used only here.
    """

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        masks = self.backend.cast(transformation["batch_masks"], labels.dtype)
        pasted = self.backend.numpy.mean(masks, axis=(1, 2, 3))[:, None]
        others = self.backend.numpy.take(
            labels, transformation["permutation_order"], axis=0
        )
        return (1.0 - pasted) * labels + pasted * others


def _mix_batches(dataset, layer, num_classes):
    label_spec = _check_dataset(dataset, num_classes)
    to_one_hot = label_spec.dtype.is_integer

    def mix(images, labels):
        if to_one_hot:
            labels = tf.reshape(labels, [-1])
            # `tf.one_hot` maps a label out of range to a row of zeros, which
            # mixing would then spread silently; stop at the batch instead.
            in_range = tf.reduce_all((labels >= 0) & (labels < num_classes))
            check = tf.debugging.Assert(in_range, [
                f"Integer labels must be in [0, num_classes={num_classes}). Received labels:",
                labels,
            ], summarize=8)
            with tf.control_dependencies([check]):
                labels = tf.one_hot(labels, num_classes)
        labels = tf.cast(labels, "float32")
        mixed = layer({"images": images, "labels": labels}, training=True)
        return mixed["images"], mixed["labels"]

    return dataset.map(mix)


def _check_dataset(dataset, num_classes):
    """Checks a batched (images, labels) dataset; returns the label spec."""
    spec = getattr(dataset, "element_spec", None)
    if not isinstance(dataset, tf.data.Dataset) or not (
        isinstance(spec, tuple) and len(spec) == 2
    ):
        # A dataset's repr is its element spec; anything else (arrays) is summarized.
        received = repr(dataset) if isinstance(dataset, tf.data.Dataset) else short_repr(dataset)
        raise ValueError(
            "Expected a `tf.data.Dataset` of (images, labels) batches. "
            f"Received: dataset={received}"
        )
    images, labels = spec
    if images.shape.rank != 4:
        raise ValueError(
            "Expected batched images of shape (batch, height, width, "
            "channels); call `dataset.batch(batch_size)` first. "
            f"Received: images.shape={images.shape}"
        )
    _check_labels(labels, num_classes)
    return labels


def _check_labels(labels, num_classes):
    shape = labels.shape
    class_ids = shape.rank == 1 or (shape.rank == 2 and shape[-1] in (1, None))
    if labels.dtype.is_integer:
        if num_classes is None or not class_ids:
            raise ValueError(
                "Integer labels need `num_classes` to be one-hot encoded and "
                "a shape of (batch,) or (batch, 1). Received: "
                f"num_classes={num_classes!r}, labels.shape={labels.shape}"
            )
        check_positive_int("num_classes", num_classes)
    elif labels.shape.rank != 2:
        raise ValueError(
            "Expected one-hot labels of shape (batch, classes), or integer "
            f"class ids with `num_classes`. Received: labels.shape={labels.shape}"
        )
    elif num_classes is not None and labels.shape[-1] not in (None, num_classes):
        raise ValueError(
            "One-hot labels must have `num_classes` columns. Received: "
            f"num_classes={num_classes!r}, labels.shape={labels.shape}"
        )
