"""Retraining the best configurations with several seeds."""

import math

import keras
import numpy as np
import pandas as pd

from keras_recipes.recipes._validation import check_positive_int, is_seed
from keras_recipes.tuning import _graph_release
from keras_recipes.tuning import _single_trace
from keras_recipes.tuning import coarse_to_fine_oracle as c2f


def _best_value(history, objective):
    scores = [float(v) for v in history.history.get(objective.name, [])]
    if not scores or not all(math.isfinite(s) for s in scores):
        return math.nan
    return max(scores) if objective.direction == "max" else min(scores)


def _run_once(tuner, hp, seed, fit_args, fit_kwargs, epochs):
    keras.utils.set_random_seed(seed)
    kwargs = dict(fit_kwargs, epochs=epochs, verbose=fit_kwargs.get("verbose", 0))
    kwargs["callbacks"] = [*fit_kwargs.get("callbacks", []), keras.callbacks.TerminateOnNaN()]
    with _graph_release.released_graphs():
        model = tuner._try_build(hp)
        _single_trace.build_before_fit(model, tuner.hypermodel, fit_args, kwargs)
        history = tuner.hypermodel.fit(hp, model, *fit_args, **kwargs)
    return _best_value(history, tuner.oracle.objective)


def _public_values(trial):
    values = trial.hyperparameters.values
    return {k: v for k, v in values.items() if k not in c2f.PRIVATE_KEYS}


def distinct_best(ranked_trials, n):
    """The first `n` of `ranked_trials` (best first) with distinct values.

    A promoted trial re-trains an earlier trial's configuration: of identical
    configurations only the better-ranked trial is kept.
    """
    picked, seen = [], []
    for trial in ranked_trials:
        values = _public_values(trial)
        if values not in seen:
            seen.append(values)
            picked.append(trial)
        if len(picked) == n:
            break
    return picked


def seed_spread(scores):
    """The sample standard deviation (ddof=1) of the finite `scores`: the
    seed-to-seed noise estimated from a few runs; NaN with fewer than two."""
    finite = [s for s in scores if math.isfinite(s)]
    return float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan


def rerun_best(tuner, fit_args, fit_kwargs, *, n, seeds, epochs):
    check_positive_int("n", n)
    seeds = list(seeds)
    if not seeds or not all(is_seed(s) for s in seeds):
        raise ValueError(
            "Invalid value for argument `seeds`: expected a non-empty list of "
            f"integers in [0, 2**32 - 1]. Received: seeds={seeds!r}"
        )
    seeds = [int(s) for s in seeds]
    if epochs is not None:
        check_positive_int("epochs", epochs)
    rows = []
    with _graph_release.frozen_heap():  # keras-tuner's two full gc passes per build
        for trial in distinct_best(tuner.oracle.ranked_trials(), n):
            hp = trial.hyperparameters
            trial_epochs = epochs or hp.values.get(c2f.EPOCHS_KEY, 1)
            scores = [_run_once(tuner, hp, s, fit_args, fit_kwargs, trial_epochs) for s in seeds]
            rows.append(
                {"trial_id": trial.trial_id, "round": hp.values.get(c2f.ROUND_KEY),
                 "search_score": float(trial.score), "mean": float(np.nanmean(scores)),
                 "std": seed_spread(scores), "runs": len(scores), **_public_values(trial)}
            )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        best_first = tuner.oracle.objective.direction == "max"
        frame = frame.sort_values("mean", ascending=not best_first).reset_index(drop=True)
    return frame
