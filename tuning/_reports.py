"""Tables and summaries of a coarse-to-fine oracle's trials (pandas)."""

import math

import pandas as pd

from keras_recipes.tuning import _keys


def format_values(values, digits=3):
    """`name=value, ...` for a trial's values, without the oracle's own keys."""
    return ", ".join(
        f"{k}={v:.{digits}g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in values.items() if k not in _keys.PRIVATE_KEYS
    )


def progress_line(oracle, trial):
    """The line printed when a trial ends."""
    if oracle.is_infeasible(trial):
        outcome = "diverged (infeasible)"
    elif trial.status == "COMPLETED":
        outcome = f"{oracle.objective.name}={trial.score:.4f}"
        outcome += " (stopped early)" if oracle.is_stopped_early(trial) else ""
    else:
        outcome = trial.status.lower()
    return (
        f"trial {trial.trial_id} (round {oracle.round_of(trial)}/{oracle.rounds}): "
        f"{format_values(trial.hyperparameters.values)} -> {outcome}"
    )


def _status(oracle, trial):
    if trial.status == "COMPLETED" and oracle.is_infeasible(trial):
        return "INFEASIBLE"
    if trial.status == "COMPLETED" and oracle.is_stopped_early(trial):
        return "STOPPED_EARLY"
    return trial.status


def _metric(trial, name):
    if trial.metrics.exists(name):
        return trial.metrics.get_last_value(name)
    return math.nan


def hyperparameter_names(oracle):
    return [hp.name for hp in oracle.hyperparameters.space if hp.name not in _keys.PRIVATE_KEYS]


def results_dataframe(oracle):
    """One row per trial, in trial order."""
    names = hyperparameter_names(oracle)
    rows = []
    for trial_id in sorted(oracle.trials, key=int):
        trial = oracle.trials[trial_id]
        status = _status(oracle, trial)
        scored = status in ("COMPLETED", "STOPPED_EARLY")
        values = trial.hyperparameters.values
        rows.append(
            {
                "trial_id": trial_id,
                "round": values.get(_keys.ROUND_KEY),
                "status": status,
                **{name: values.get(name) for name in names},
                "score": float(trial.score) if scored and trial.score is not None else math.nan,
                "best_epoch": _metric(trial, _keys.BEST_EPOCH_METRIC) if scored else math.nan,
                "epochs_trained": _metric(trial, _keys.EPOCHS_TRAINED_METRIC),
                "seconds": _metric(trial, _keys.SECONDS_METRIC),
            }
        )
    columns = ["trial_id", "round", "status", *names, "score", "best_epoch",
               "epochs_trained", "seconds"]
    return pd.DataFrame(rows, columns=columns)


def ranges_dataframe(oracle):
    """One row per (round, numeric hyperparameter)."""
    rows = [
        {"round": number, "hyperparameter": name, **bounds}
        for number, ranges in enumerate(oracle.round_ranges, start=1)
        for name, bounds in ranges.items()
    ]
    return pd.DataFrame(rows, columns=["round", "hyperparameter", "min_value", "max_value", "sampling"])


def summary_figures(oracle):
    """The figures `CoarseToFineSearch.summary` prints, as a dict."""
    results = results_dataframe(oracle)
    ended = results[results["status"].isin(["COMPLETED", "STOPPED_EARLY", "INFEASIBLE", "FAILED"])]
    counts = ended["status"].value_counts()
    ranked = oracle.ranked_trials()
    best = ranked[0] if ranked else None
    return {
        "trials": len(ended),
        "completed": int(counts.get("COMPLETED", 0)),
        "stopped_early": int(counts.get("STOPPED_EARLY", 0)),
        "infeasible": int(counts.get("INFEASIBLE", 0)),
        "failed": int(counts.get("FAILED", 0)),
        "infeasible_fraction": float(counts.get("INFEASIBLE", 0)) / max(1, len(ended)),
        "best_trial_id": best.trial_id if best else None,
        "best_score": float(best.score) if best else None,
        "best_values": {
            k: v for k, v in best.hyperparameters.values.items() if k not in _keys.PRIVATE_KEYS
        } if best else {},
        "boundary_warnings": [w["message"] for w in oracle.boundary_warnings],
    }


def summary_lines(oracle, figures):
    objective = oracle.objective
    lines = [
        f"Coarse-to-fine search: {figures['trials']} trials in {len(oracle.round_ranges)} "
        f"round(s), objective {objective.name} ({objective.direction})",
        f"completed {figures['completed']}, stopped early {figures['stopped_early']}, "
        f"infeasible {figures['infeasible']} ({figures['infeasible_fraction']:.0%}), "
        f"failed {figures['failed']}",
    ]
    for number, ranges in enumerate(oracle.round_ranges, start=1):
        spans = ", ".join(
            f"{name} [{b['min_value']:.3g}, {b['max_value']:.3g}]" for name, b in ranges.items()
        )
        lines.append(f"round {number} ranges: {spans}")
    lines += [f"warning: {message}" for message in figures["boundary_warnings"]]
    if figures["best_trial_id"] is not None:
        values = format_values(figures["best_values"], digits=4)
        lines.append(
            f"best: trial {figures['best_trial_id']} {objective.name}="
            f"{figures['best_score']:.4f} with {values}"
        )
    return lines
