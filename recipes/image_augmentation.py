"""`image_augmentation`: a training-only pipeline of Keras' image layers.

Seeds 000 and 003, "Data Augmentation": horizontal flips, random crops and
scales, color jitter, cutout, rotation and translation. Every step is one of
Keras' own random layers; this recipe picks them, orders them (geometry,
then color, then cutout so erased patches stay exactly at the fill value)
and seeds them. Keras' random image layers are the identity when called with
`training=False`, so the pipeline only acts during `fit()`.
"""

import numbers

import keras

from keras_recipes.recipes._validation import (
    check_choice,
    check_non_negative,
    check_rate,
    check_seed,
    check_unit_interval,
)

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
# Color strengths, each the `*_factor` of `keras.layers.RandomColorJitter`.
COLOR_ARGUMENTS = ("brightness", "contrast", "saturation", "hue")


def image_augmentation(
    flip="horizontal",
    crop=0.2,
    rotation=0.0,
    translation=0.1,
    brightness=0.0,
    contrast=0.0,
    saturation=0.0,
    hue=0.0,
    cutout=0.0,
    value_range=(0, 1),
    seed=None,
    name="image_augmentation",
):
    """Returns a `keras.Sequential` of random image augmentations.

    Each augmentation is switched off by `0` (or `flip=None`) and otherwise
    set by its strength. The output always has the input's size: the random
    crop is a zoom-in (`keras.layers.RandomZoom`) that crops a centered
    window of 80% to 100% of each side for `crop=0.2` and scales it back
    up; add `translation` to move the window off-center. Areas moved in
    from outside the image are filled by reflection.

    Put it first in a model (it is skipped by `predict()` and `evaluate()`),
    or map it over a `tf.data` pipeline with `training=True`. Inputs are
    batches of shape `(batch, height, width, channels)`.

    Args:
        flip: One of `"horizontal"`, `"vertical"`,
            `"horizontal_and_vertical"`, or `None` for no flips.
            Defaults to `"horizontal"`.
        crop: Largest zoom-in fraction, in [0, 1). Defaults to `0.2`.
        rotation: Largest rotation, as a fraction of a full turn (`0.05` is
            up to 18 degrees either way). Defaults to `0.0`.
        translation: Largest shift, as a fraction of height and width, in
            [0, 1). Defaults to `0.1`.
        brightness: Brightness jitter in [0, 1], a fraction of
            `value_range`. Defaults to `0.0`.
        contrast: Contrast jitter in [0, 1]. Defaults to `0.0`.
        saturation: Saturation jitter in [0, 1] (RGB images only).
            Defaults to `0.0`.
        hue: Hue jitter in [0, 1] (RGB images only). Defaults to `0.0`.
        cutout: Probability in [0, 1] that one random patch of each image
            is set to 0 (Cutout, via `keras.layers.RandomErasing`).
            Defaults to `0.0`.
        value_range: `(low, high)` range of the pixel values, used by the
            color and cutout steps. Defaults to `(0, 1)`.
        seed: Integer seed for reproducible augmentation, or `None`.
            Defaults to `None`.
        name: The model's name. Defaults to `"image_augmentation"`.

    Returns:
        A `keras.Sequential` of Keras preprocessing layers (an `Identity`
        layer when everything is switched off).

    Raises:
        ValueError: If a strength is out of its range, `flip` is unknown or
            `value_range` is not an increasing pair; when the pipeline is
            built, if `saturation` or `hue` is set and the images do not have
            3 channels.

    Example:

    >>> augment = image_augmentation(flip="horizontal", crop=0.1, cutout=0.5)
    >>> images = np.random.rand(8, 32, 32, 3).astype("float32")
    >>> augment(images, training=True).shape
    TensorShape([8, 32, 32, 3])
    """
    (crop, rotation, translation, cutout), strengths = _check_arguments(
        flip, crop, rotation, translation, cutout, value_range,
        dict(brightness=brightness, contrast=contrast,
             saturation=saturation, hue=hue),
    )
    seeds = _seeds(check_seed(seed))
    layers = _geometric_layers(flip, crop, rotation, translation, seeds)
    layers += _color_layers(strengths, value_range, seeds)
    if cutout > 0:
        # float32 whatever the global policy: under "mixed_float16", Keras'
        # `RandomErasing` builds a float16 `range`, which TensorFlow refuses.
        layers.append(keras.layers.RandomErasing(
            factor=(cutout, cutout), fill_value=0.0,
            value_range=tuple(value_range), seed=next(seeds), name="cutout",
            dtype="float32",
        ))
    return keras.Sequential(layers or [keras.layers.Identity()], name=name)


def _geometric_layers(flip, crop, rotation, translation, seeds):
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip(flip, seed=next(seeds)))
    if crop > 0:
        # A negative zoom factor zooms in; `width_factor=None` keeps the
        # aspect ratio, so this is a square-ish crop scaled back up.
        layers.append(keras.layers.RandomZoom(
            (-crop, 0.0), seed=next(seeds), name="random_crop"
        ))
    if rotation > 0:
        layers.append(keras.layers.RandomRotation(rotation, seed=next(seeds)))
    if translation > 0:
        layers.append(keras.layers.RandomTranslation(
            translation, translation, seed=next(seeds)
        ))
    return layers


def _color_layers(strengths, value_range, seeds):
    factors = {
        f"{key}_factor": value for key, value in strengths.items() if value > 0
    }
    if not factors:
        return []
    return [ColorJitter(
        value_range=tuple(value_range), seed=next(seeds), name="color_jitter",
        **factors,
    )]


@keras.saving.register_keras_serializable(package="keras_recipes")
class ColorJitter(keras.layers.RandomColorJitter):
    """`keras.layers.RandomColorJitter` that refuses a non-RGB input at build.

    Saturation and hue go through HSV, which needs 3 channels; Keras' layer
    fails only when first called in training, deep inside TensorFlow. This
    one says so when the pipeline is built (or first called) on the images.
    """

    def build(self, input_shape):
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        hsv = {name: factor for name, factor in (
            ("saturation", self.saturation_factor), ("hue", self.hue_factor)
        ) if factor is not None}
        if hsv and channels is not None and channels != 3:
            raise ValueError(
                f"{' and '.join(hsv)} jitter needs RGB images (3 channels); use "
                "`brightness` and `contrast` for other images. Received: input "
                f"shape {tuple(input_shape)} with "
                + ", ".join(f"{name}={factor!r}" for name, factor in hsv.items())
            )
        super().build(input_shape)


def _seeds(seed):
    """Yields a distinct seed per layer (or `None`s when unseeded)."""
    index = 0
    while True:
        yield None if seed is None else seed + index
        index += 1


def _check_arguments(flip, crop, rotation, translation, cutout, value_range, colors):
    if flip is not None:
        check_choice("flip", flip, FLIP_MODES)
    # Python floats: Keras' rotation and translation layers refuse NumPy scalars.
    geometry = (check_rate("crop", crop), check_non_negative("rotation", rotation),
                check_rate("translation", translation), check_unit_interval("cutout", cutout))
    strengths = {key: check_unit_interval(key, colors[key]) for key in COLOR_ARGUMENTS}
    _check_value_range(value_range)
    return geometry, strengths


def _check_value_range(value_range):
    valid = (
        isinstance(value_range, (tuple, list))
        and len(value_range) == 2
        and all(isinstance(v, numbers.Real) for v in value_range)
        and value_range[0] < value_range[1]
    )
    if not valid:
        raise ValueError(
            "Invalid value for argument `value_range`: expected a pair "
            f"(low, high) with low < high. Received: value_range={value_range!r}"
        )
