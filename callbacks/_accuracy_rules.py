"""A validation accuracy above chance: what a loss stuck at chance hides.

The memorization rule (`_curve_rules._memorizing`) reads the validation loss
only: never below chance, it says nothing learned carries over and that the
labels may not match the inputs. But a model over-confident on the examples
it gets wrong can hold its validation cross-entropy at chance while getting
most examples right (study 6's L10: validation loss 0.71 against ln 2 = 0.69,
validation accuracy 0.74 against 0.5). When the run logs a validation
accuracy that beats the accuracy of always guessing the most frequent class,
the model does generalize: the finding keeps its kind (`overfitting`) and
gets the ordinary overfitting advice.
"""

import dataclasses

import numpy as np

from keras_recipes.callbacks._advice import advice_for

#: The names Keras logs an accuracy metric under (`val_` + name).
ACCURACY_NAMES = ("accuracy", "acc", "sparse_categorical_accuracy",
                  "categorical_accuracy", "binary_accuracy")


def chance_accuracy(targets, units):
    """The accuracy of always guessing the most frequent class of `targets`
    (class ids, one-hot rows or binary labels), `1 / units` for a softmax of
    `units > 1` units without targets, else `None` (a binary output without
    `y`: its prior is unknown)."""
    if isinstance(targets, np.ndarray) and targets.size:
        labels = targets.reshape(len(targets), -1)
        if labels.shape[1] > 1:
            ids = labels.argmax(axis=1)
        else:
            ids = labels[:, 0] > 0.5 if units == 1 else labels[:, 0]
        return float(np.unique(ids, return_counts=True)[1].max() / len(ids))
    return 1.0 / units if units and units > 1 else None


def validation_accuracy(curves):
    """The logged validation accuracies (validated epochs only), or `None`."""
    for name in ACCURACY_NAMES:
        column = f"val_{name}"
        if column in curves:
            values = curves[column].to_numpy(dtype="float64")
            return values[np.isfinite(values)]
    return None


def with_accuracy_above_chance(findings, curves, chance, t, suggestion=None):
    """The findings with the memorization advice replaced by the ordinary
    overfitting advice where the validation accuracy (mean of the last
    `curve_window` validated epochs) went `accuracy_above_chance` of the way
    from `chance` (`chance_accuracy`) to 1; that accuracy and `chance` go
    into the evidence."""
    memorization = advice_for("memorization", suggestion)
    accuracy = validation_accuracy(curves)
    if chance is None or accuracy is None or not len(accuracy) or chance >= 1.0:
        return list(findings)
    last = float(np.mean(accuracy[-int(t["curve_window"]):]))
    if (last - chance) / (1.0 - chance) < t["accuracy_above_chance"]:
        return list(findings)
    return [
        dataclasses.replace(f, evidence={**f.evidence, "last_val_accuracy": last, "chance_accuracy": chance},
                            advice=advice_for("overfitting", suggestion))
        if f.kind == "overfitting" and f.advice == memorization else f
        for f in findings
    ]
