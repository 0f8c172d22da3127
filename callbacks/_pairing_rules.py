"""A training loss that never leaves chance: first suspect x and y unpaired.

A model with any capacity fits part of its own training set when its inputs
say something about its labels: even a linear model takes the training loss
below the chance level on a learnable problem. A training loss that never
goes `chance_margin` below chance (with gradients that flow: dead, saturated
and vanishing layers explain `underfitting` away first) means the model
finds nothing in x that predicts y, as when x and y lost their pairing in
the input pipeline (x shuffled apart from y, a `tf.data` zip of two
differently shuffled datasets). Capacity is no fix for that, so the advice
checks the pairing first (`unpaired_labels`).
"""

import numpy as np


def underfitting_advice(loss, val, scale, t):
    """`"unpaired_labels"` if neither the training losses `loss` nor the
    validation losses `val` (`None`, or NaN where not validated) ever went
    `chance_margin` below the chance level, else `None` (the ordinary
    underfitting advice), also when the chance level is unknown. A
    validation loss below chance means something was learned (heavy dropout
    keeps only the training loss at chance)."""
    if scale.chance is None or not len(loss):
        return None
    level = scale.level(1.0 - t["chance_margin"], scale.chance)
    validated = np.array([]) if val is None else val[np.isfinite(val)]
    if float(np.min(loss)) < level or (len(validated) and float(np.min(validated)) < level):
        return None
    return "unpaired_labels"
