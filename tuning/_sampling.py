"""Sampling helpers of the coarse-to-fine oracle."""

import keras_tuner


def is_numeric(hp):
    """True for an `Int` or `Float` hyperparameter with a non-empty range."""
    return type(hp).__name__ in ("Float", "Int") and hp.max_value > hp.min_value


def plain(value):
    """`value` as a plain Python scalar (gRPC protos refuse numpy scalars)."""
    return value.item() if hasattr(value, "item") else value


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
            hps.values[hp.name] = plain(hp.prob_to_value(float(u)))
    return hps.values
