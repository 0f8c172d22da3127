"""Step 6 of the training guideline: read the loss curves."""

import pandas as pd

from keras_recipes.callbacks import _chance_level
from keras_recipes.callbacks import _curve_rules
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds


def diagnose_curves(history, chance_loss=None, thresholds=None, learning_rate_suggestion=None):
    """Reads per-epoch loss curves and says what they show.

    A pure function: the same curves always give the same findings, and
    nothing is trained. It recognizes seed 003's cases (both curves still
    improving: `needs_more_training`; validation loss rising while training
    loss falls: `overfitting`; both losses high and close: `underfitting`)
    and the learning-rate symptoms `loss_not_decreasing`, `oscillating_loss`,
    `diverging_loss` and `non_finite`. With `chance_loss`, a validation loss
    that never goes 5% below it is `overfitting` if the training loss ends
    10% or more below it (the model memorizes: labels that do not match the
    inputs), else `underfitting` once it stops falling. Runs shorter than 4
    epochs get no finding but `non_finite`.

    Args:
        history: A `keras.callbacks.History`, a dict of lists (its
            `.history`) or a DataFrame with one row per epoch; it needs a
            `loss` column, and `val_loss` for overfitting.
        chance_loss: The loss of guessing (`ln C` for C classes), used as the
            loss scale, a finite number > 0; `None` uses the first epoch's
            loss. Defaults to `None`.
        thresholds: Overrides of `DIAGNOSIS_THRESHOLDS` entries, e.g.
            `{"overfit_patience": 5}`. Defaults to `None`.
        learning_rate_suggestion: An LR finder suggestion to name in the
            advice. Defaults to `None`.

    Returns:
        A list of `Finding`s, empty for healthy curves.

    Raises:
        ValueError: If there is no `loss` column, a threshold is unknown, or
            `chance_loss` is not a finite number > 0.

    Example:

    >>> history = model.fit(x, y, validation_split=0.2, epochs=30, verbose=0)
    >>> [finding.kind for finding in diagnose_curves(history)]
    ['overfitting']
    """
    # A scale of 0, below 0 or NaN would turn every rule's comparison false.
    chance_loss = _chance_level.check_chance_loss(chance_loss)
    curves = curves_frame(history)
    t = resolve_thresholds(thresholds)
    reference = _curve_rules.reference_loss(curves, chance_loss)
    return _curve_rules.curve_findings(curves, reference, t, learning_rate_suggestion,
                                       chance=chance_loss)


def curves_frame(history):
    """A DataFrame with one row per epoch from a History, dict or DataFrame."""
    if hasattr(history, "history") and isinstance(history.history, dict):
        history = history.history
    curves = pd.DataFrame(history).reset_index(drop=True)
    if "loss" not in curves or len(curves) == 0:
        raise ValueError(
            "`diagnose_curves` needs per-epoch curves with a `loss` column. "
            f"Received: columns={list(curves.columns)}, epochs={len(curves)}"
        )
    return curves
