import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_recipes.tuning import plot_scores  # noqa: E402


def _results():
    return pd.DataFrame({
        "round": [1, 1, 1, 2, 2],
        "learning_rate": [1e-5, 1e-3, 1e-1, 5e-4, 2e-3],
        "score": [0.1, 0.9, math.nan, 0.95, 0.97],  # the NaN is an infeasible trial
    })


def test_one_colour_per_round_on_a_log_axis_without_infeasible_trials():
    figure = plot_scores(_results(), "learning_rate")
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["round 1", "round 2"]
    assert [len(c.get_offsets()) for c in ax.collections] == [2, 2]
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == 2


def test_an_unknown_column_is_rejected():
    with pytest.raises(ValueError, match="hyperparameter"):
        plot_scores(_results(), "momentum")
