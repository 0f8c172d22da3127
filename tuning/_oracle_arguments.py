"""Checks of `CoarseToFineOracle`'s arguments (at the entry point, in the Keras form)."""

import numbers

from keras_recipes.recipes._validation import check_choice, check_positive_int, check_seed

SAMPLINGS = ("random", "halton")
BOUNDARY_ACTIONS = ("warn", "expand")


def check_arguments(objective, *, coarse_trials, fine_trials, coarse_epochs, fine_epochs,
                    top_k, rounds, promote, sampling, boundary, early_stopping, seed, progress):
    """Raises `ValueError` for a bad argument; returns the checked `seed`."""
    for name, value in (
        ("coarse_trials", coarse_trials), ("fine_trials", fine_trials),
        ("coarse_epochs", coarse_epochs), ("fine_epochs", fine_epochs),
        ("top_k", top_k), ("rounds", rounds),
    ):
        check_positive_int(name, value)
    check_choice("sampling", sampling, SAMPLINGS)
    check_choice("boundary", boundary, BOUNDARY_ACTIONS)
    seed = check_seed(seed)
    for name, value in (("early_stopping", early_stopping), ("progress", progress)):
        if not isinstance(value, bool):
            raise ValueError(
                f"Invalid value for argument `{name}`: expected True or False. "
                f"Received: {name}={value!r}"
            )
    if seed is not None and seed < 0:
        # Halton scrambling and `keras.utils.set_random_seed` need seeds >= 0.
        raise ValueError(
            "Invalid value for argument `seed`: expected an integer >= 0 or None. "
            f"Received: seed={seed!r}"
        )
    if top_k > coarse_trials:
        raise ValueError(
            "Invalid value for argument `top_k`: expected at most "
            f"`coarse_trials` ({coarse_trials}). Received: top_k={top_k}"
        )
    if (isinstance(promote, bool) or not isinstance(promote, numbers.Integral)
            or not 0 <= promote <= min(top_k, fine_trials)):
        raise ValueError(
            "Invalid value for argument `promote`: expected an integer from 0 "
            f"to min(top_k, fine_trials) = {min(top_k, fine_trials)}. "
            f"Received: promote={promote!r}"
        )
    if isinstance(objective, (list, tuple)):
        raise ValueError(
            "Invalid value for argument `objective`: expected one metric name "
            f"or `keras_tuner.Objective`. Received: objective={objective!r}"
        )
    return seed
