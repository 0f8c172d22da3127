"""`plot_scores`: a search's scores against one hyperparameter, one colour per round."""

import numpy as np


def plot_scores(results, hyperparameter, *, log=True, ax=None, title=None):
    """Plots each trial's score against a hyperparameter (seed 003's figures).

    Trials without a finite score (infeasible, failed, running) are left out.

    Args:
        results: `CoarseToFineSearch.results_dataframe()`.
        hyperparameter: A column of `results`, e.g. `"learning_rate"`.
        log: Logarithmic x axis. Defaults to `True`.
        ax: A matplotlib `Axes` to draw on; `None` makes a new figure.
            Defaults to `None`.
        title: Figure title; `None` writes "score vs <hyperparameter>".
            Defaults to `None`.

    Returns:
        The matplotlib `Figure`.

    Raises:
        ValueError: if `hyperparameter` is not a column of `results`.

    Example:

    >>> figure = plot_scores(tuner.results_dataframe(), "learning_rate")
    >>> figure.savefig("score_vs_learning_rate.png")
    """
    if hyperparameter not in results.columns:
        raise ValueError(
            "Invalid value for argument `hyperparameter`: expected one of the results' "
            f"columns {list(results.columns)}. Received: hyperparameter={hyperparameter!r}"
        )
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(figsize=(6, 4))
    figure = ax.figure
    shown = results[np.isfinite(results["score"].astype(float))]
    for number, group in shown.groupby("round"):
        ax.scatter(group[hyperparameter], group["score"], label=f"round {number}", alpha=0.8)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(hyperparameter)
    ax.set_ylabel("score")
    ax.set_title(title or f"score vs {hyperparameter}")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    return figure
