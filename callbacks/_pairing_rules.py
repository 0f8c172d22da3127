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

import dataclasses

import numpy as np

from keras_recipes.callbacks import _layers
from keras_recipes.callbacks._advice import advice_for


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


def with_heavy_dropout(model, findings, suggestion=None):
    """`findings` with the `unpaired_labels` advice of an `underfitting`
    finding replaced when the model drops at least half of some layer's
    inputs or weights (a `rate` >= 0.5 on a Dropout-like layer, the recipes'
    `DropConnect` included): the training loss then stays at chance because
    each step sees too little of the network (study 6: DropConnect 0.95),
    and the pairing of x and y is no first suspect. The rates go into the
    evidence as `heavy_dropout`."""
    paired = advice_for("unpaired_labels", suggestion)
    heavy = {} if model is None else {
        name: float(layer.rate) for name, layer in _layers.leaf_layers(model)
        if isinstance(getattr(layer, "rate", None), (int, float)) and "drop" in type(layer).__name__.lower()
        and float(layer.rate) >= 0.5}
    if not heavy:
        return list(findings)
    rates = ", ".join(f"{name} {rate:g}" for name, rate in heavy.items())
    return [dataclasses.replace(
        finding, evidence={**finding.evidence, "heavy_dropout": heavy},
        advice=f"Lower the dropout first ({rates}): " + advice_for("underfitting", suggestion))
        if finding.kind == "underfitting" and finding.advice == paired else finding
        for finding in findings]
