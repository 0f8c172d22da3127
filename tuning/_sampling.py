"""Sampling helpers of the coarse-to-fine oracle."""

import math
import random

import keras_tuner


def is_numeric(hp):
    """True for an `Int` or `Float` hyperparameter with a non-empty range."""
    return type(hp).__name__ in ("Float", "Int") and hp.max_value > hp.min_value


def plain(value):
    """`value` as a plain Python scalar (gRPC protos refuse numpy scalars)."""
    return value.item() if hasattr(value, "item") else value


def value_at(hp, prob):
    """The value of `hp` at cumulative probability `prob` in [0, 1).

    keras-tuner's own `prob_to_value` counts a stepped linear `Float`'s grid
    with floating-point floor division, so `Float(0, 0.5, step=0.1)` has 5
    values and never gives 0.5 (keras-tuner issue #1001, open). Here such a
    grid has every point `min + k * step` up to `max_value`, each as likely;
    other hyperparameters are sampled as keras-tuner does.
    """
    if type(hp).__name__ == "Float" and hp.step is not None and hp.sampling == "linear":
        count = math.floor((hp.max_value - hp.min_value) / hp.step + 1e-9) + 1
        index = min(int(prob * count), count - 1)
        return float(f"{hp.min_value + index * hp.step:.12g}")
    return plain(hp.prob_to_value(prob))


def random_value(hp, seed):
    """`hp.random_sample(seed)` through `value_at` (the same random stream)."""
    return value_at(hp, float(random.Random(seed).random()))


def halton_values(space, seed, position):
    """Values of the `position`-th point of a scrambled Halton sequence.

    The i-th point of a sequence is reproducible, so a resumed search
    continues the same sequence.

    Args:
        space: The hyperparameters (`HyperParameters.space`).
        seed: Seed of the scrambling.
        position: Index of the point in the sequence.

    Returns:
        A dict of hyperparameter values.
    """
    from scipy.stats import qmc

    sampler = qmc.Halton(d=max(1, len(space)), scramble=True, seed=seed)
    sampler.fast_forward(position)
    point = sampler.random(1)[0]
    hps = keras_tuner.HyperParameters()
    for hp, u in zip(space, point):
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = value_at(hp, float(u))
    return hps.values
