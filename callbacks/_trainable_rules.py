"""A model with nothing to train (a pure function over the findings).

With `model.trainable = False` (or every layer frozen) `fit` runs, Keras
warns once, and the loss stays where it started: the curve rules call that
`loss_not_decreasing`, whose advice (raise the learning rate) no learning
rate can follow. The finding keeps its kind and gets the cause instead.
"""

import dataclasses

from keras_recipes.callbacks._advice import advice_for


def with_nothing_trainable(model, findings):
    """`findings` with the `loss_not_decreasing` of a model without trainable
    weights advising to unfreeze them (`trainable_weights: 0` in its evidence).

    Args:
        model: The model that was trained.
        findings: The findings of its run.

    Returns:
        A list of `Finding`s in the same order.
    """
    if model is None or not model.built or model.trainable_weights:
        return list(findings)
    return [
        dataclasses.replace(finding, evidence={**finding.evidence, "trainable_weights": 0},
                            advice=advice_for("nothing_trainable"))
        if finding.kind == "loss_not_decreasing" else finding
        for finding in findings
    ]
