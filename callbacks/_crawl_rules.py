"""How far the weights move, and a learning rate that crawls (pure functions).

`model_update_ratio` is the whole model's step size: the median over logged
steps of ||update|| / ||weights||, all weights one vector. A step size says
little about the learning rate alone: batches of 1 take many small steps an
epoch, full batches one big one. What an epoch does is their sum, the
path the weights go per epoch in units of their norm
(`update_travel_per_epoch`), an upper bound on how far they get.

`too_low_on_slow_curve` reads it on a slow but steady curve
(`_progress_rules.slow_but_steady`: falling by little, every epoch, no
slower than before). Such a curve is a slow start that will break through
(plain SGD at 0.05 on a digits CNN: the weights go 0.35-3.1% of their norm
an epoch, on a flat part of the loss) or a learning rate that crawls: the
weights hardly move, so the loss falls in a straight line at the pace of
its first epoch (plain SGD at 1e-4 on a wine MLP: 0.029% an epoch, the loss
still 37% above chance after 30 epochs). Training longer cures the first;
the second needs hundreds of epochs more, so the rate is what to change.
"""

import math

import numpy as np

from keras_recipes.callbacks._progress_rules import SLOW_PROGRESS


def model_update_ratio(gradients):
    """The median over logged steps of the whole model's ||update|| / ||weights||,
    all layers' weights taken as one vector: the layers that hold most of the
    weight count most, a small layer with bigger steps does not hide that the
    rest crawls. NaN if no weight norm was logged."""
    sizes = gradients.assign(update=(gradients["update_ratio"] * gradients["weight_norm"]) ** 2,
                             weight=gradients["weight_norm"] ** 2)
    per_step = sizes.groupby("step")[["update", "weight"]].sum(min_count=1).dropna()
    per_step = per_step[per_step["weight"] > 0]
    if per_step.empty:
        return math.nan
    return float(np.median(np.sqrt(per_step["update"] / per_step["weight"])))


def steps_per_epoch(gradients):
    """Training steps per epoch, from the first logged step of the first and
    last logged epochs (within one logging interval over the epochs between
    them); NaN if fewer than 2 epochs were logged."""
    first = gradients.groupby("epoch")["step"].min()
    if len(first) < 2:
        return math.nan
    return float((first.iloc[-1] - first.iloc[0]) / (first.index[-1] - first.index[0]))


def update_travel_per_epoch(gradients):
    """The path of the weights per epoch in units of their norm: the model's
    median step (`model_update_ratio`) times the steps per epoch."""
    return model_update_ratio(gradients) * steps_per_epoch(gradients)


def too_low_on_slow_curve(finite, ratios, curve, t):
    """`learning_rate_too_low` (advice `learning_rate_crawls`) when the
    curve is slow but steady (`SLOW_PROGRESS`) and the weights go under
    `update_travel_low` of their norm per epoch; else `None`. A rule of
    `_learning_rate_rules.learning_rate_findings`."""
    if SLOW_PROGRESS not in curve["kinds"]:
        return None
    travel = update_travel_per_epoch(finite)
    if not travel < t["update_travel_low"]:  # NaN (one epoch logged) is no evidence
        return None
    evidence = {"update_travel_per_epoch": travel, "model_update_ratio": model_update_ratio(finite),
                "steps_per_epoch": steps_per_epoch(finite),
                "largest_median_update_ratio": float(ratios.max()),
                "loss_progress": curve["progress"], "curve": [SLOW_PROGRESS]}
    return "learning_rate_too_low", None, evidence, "learning_rate_crawls"
