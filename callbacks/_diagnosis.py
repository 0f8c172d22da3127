"""The training doctor's decision: all rules, combined (a pure function)."""

import math

import pandas as pd

from keras_recipes.callbacks import _curve_rules
from keras_recipes.callbacks import _layer_rules
from keras_recipes.callbacks import _learning_rate_rules
from keras_recipes.callbacks import _oscillation_rules
from keras_recipes.callbacks import _progress_rules
from keras_recipes.callbacks import _vanishing_advice
from keras_recipes.callbacks import _zero_gradient_rules
from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks.findings import Finding

# A finding of the key kind is dropped when one of the value kinds is found:
# the latter is the cause, the former its consequence.
_BLOWN_UP = ("non_finite", "exploding_gradient")
EXPLAINED_BY = {
    "vanishing_gradient": ("dead_relu", "saturated_activation"),
    "underfitting": ("dead_relu", "saturated_activation", "vanishing_gradient", *_BLOWN_UP,
                     # A model that cannot learn at the steps it is given
                     # needs another learning rate, not more units.
                     "learning_rate_too_low", "learning_rate_too_high"),
    # After a blow-up the curves describe a broken network, not a training
    # that needs more epochs or regularization.
    # A network-level cause comes first: training longer does not cure it.
    "needs_more_training": (*_BLOWN_UP, "dead_relu", "saturated_activation", "vanishing_gradient",
                            # A validation loss still falling to chance is no progress.
                            "overfitting", "underfitting",
                            # More epochs of too big (or tiny) steps are no cure.
                            "learning_rate_too_high", "learning_rate_too_low"),
    "overfitting": _BLOWN_UP,
    # A curve stalled by dead, saturated or vanishing units is their consequence:
    # "raise the learning rate" would contradict their advice (so would a
    # schedule's decay: `_with_stall_explained`).
    "loss_not_decreasing": (*_BLOWN_UP, "learning_rate_too_high", "dead_relu",
                            "saturated_activation", "vanishing_gradient"),
    # Dead or saturated units also give zero updates; that is not the learning rate.
    "learning_rate_too_low": ("dead_relu", "saturated_activation", "vanishing_gradient"),
}

#: The layer causes a stalled curve (`loss_not_decreasing`) is folded into.
_STALL_CAUSES = ("vanishing_gradient", "dead_relu", "saturated_activation")

# What weights decayed to almost nothing bring about (`underfitting` with
# `weight_norm_shrink` in its evidence): these are dropped in its favour.
EXPLAINED_BY_OVER_REGULARIZATION = (
    "vanishing_gradient", "dead_relu", "saturated_activation", "loss_not_decreasing",
    "underfitting", "needs_more_training", "learning_rate_too_low",
)

# Order of the report: causes inside the network first, then the curves.
KIND_ORDER = (
    # A loss that misreads the output is the cause of what training shows.
    "loss_output_mismatch",
    # Inputs far from standardized (`_input_scale_rules`, added by the doctor).
    "unscaled_inputs",
    "invalid_loss", "non_finite", "exploding_gradient", "vanishing_gradient", "dead_relu",
    "saturated_activation", "learning_rate_too_high", "learning_rate_too_low",
    "diverging_loss", "oscillating_loss", "loss_not_decreasing", "overfitting",
    "underfitting", "needs_more_training",
)


def diagnose(curves, gradients, activations, t, chance_loss=None, initial_loss=None,
             suggestion=None, initial_penalty=0.0, dominators=None, regularized=False,
             loss_floor=None, start_scaled=False, perfect_loss=0.0, batch_normalized=False,
             outputs=()):
    """All findings for one training run.

    Args:
        curves: DataFrame of per-epoch logs (`loss`, optional `val_loss`).
        gradients: `GradientMonitor.to_dataframe()` or `None`.
        activations: `ActivationStats.to_dataframe()` or `None`.
        t: Resolved thresholds.
        chance_loss: Loss of guessing, or `None` if unknown.
        initial_loss: Loss of the first training batch, or `None`.
        suggestion: LR finder suggestion for the advice, or `None`.
        initial_penalty: The regularization losses (`model.losses`) at the
            start of training: part of the logged loss that is no sign of a
            learning rate too high.
        dominators: `{layer: {layers every path to it goes through}}`, or
            `None`: a dead layer behind a wholly dead one is reported in that
            one's finding, not on its own.
        regularized: Whether the model has an L2 penalty or the optimizer
            a weight decay (weights shrunk to nothing then point at it).
        loss_floor: The lowest loss valid labels allow (0 for a
            cross-entropy), or `None` if unknown.
        start_scaled: Whether an epoch's loss is called many times the
            reference against the larger of the reference and the starting
            loss (a regression's chance level is its targets' variance, far
            below what an untrained network starts at for targets far from 0).
        perfect_loss: The loss of a perfect prediction (the entropy of the
            targets after label smoothing, see `_chance_level.perfect_loss`):
            losses are measured above it, progress as the fraction of the way
            from the reference down to it. 0 if none.
        batch_normalized: Whether the model has BatchNormalization layers
            (whose moving statistics a validation loss that never leaves
            chance points at first, see `_curve_rules.curve_findings`).
        outputs: Names of the watched layers that make the model's outputs
            (`_layers.output_layer_names`): like the last watched layer, they
            are not judged for saturation.

    Returns:
        A list of `Finding`s in `KIND_ORDER`, at most one non-finite finding.
    """
    found, curve = [], {"progress": math.inf, "worst": 0.0, "worst_epoch": 0, "kinds": [],
                        "val_jumps": (0, 0, 0)}
    if curves is not None and len(curves) and "loss" in curves:  # an empty fit logs nothing
        reference = _curve_rules.reference_loss(curves, chance_loss, initial_loss)
        found = _curve_rules.curve_findings(curves, reference, t, suggestion, initial_loss,
                                            chance_loss, loss_floor, perfect_loss, batch_normalized)
        curve["kinds"] = [_progress_rules.SLOW_PROGRESS if _progress_rules.is_slow_progress(finding)
                          else finding.kind for finding in found]
        # A loss below its floor measures no progress: it confirms no layer symptom.
        measured = "invalid_loss" not in curve["kinds"]
        if measured and (len(curves) >= t["min_epochs"] or "non_finite" in curve["kinds"]):
            curve["progress"] = _curve_rules.progress(curves, reference, perfect_loss)
            scale = max(reference, initial_loss or 0.0) if start_scaled else reference
            curve["worst"], curve["worst_epoch"] = _curve_rules.worst(
                curves, scale + (initial_penalty or 0.0), perfect_loss)
            curve["val_jumps"] = _oscillation_rules.validation_jumps(curves, reference, t, perfect_loss)
    # Once a NaN went through the network its statistics say nothing more.
    finite_gradients, finite_activations = _before_non_finite(gradients, activations)
    layer_found = (
        _layer_rules.non_finite_findings(gradients, suggestion)
        + _layer_rules.exploding_findings(gradients, curve, t, suggestion)
        + _layer_rules.vanishing_findings(finite_gradients, curve, t, suggestion)
        + _layer_rules.activation_findings(finite_activations, curve, t, suggestion, dominators,
                                           outputs)
        + _learning_rate_rules.learning_rate_findings(gradients, curve, t, suggestion)
    )
    # A layer without gradient whose outputs are all below 0 feeds dead ReLUs.
    layer_found = _zero_gradient_rules.dead_behind_call(layer_found, finite_activations, t, suggestion)
    # "Use ReLU instead of sigmoid/tanh" only where the model has them.
    layer_found = _vanishing_advice.with_fitting_advice(layer_found, finite_activations)
    if any(finding.kind == "non_finite" for finding in layer_found):
        found = [finding for finding in found if finding.kind != "non_finite"]
    if not gradients_blown_up(layer_found):
        shrunk = _layer_rules.over_regularization_findings(finite_gradients, curve, t, regularized)
        if shrunk and not _layer_rules.dead_before_shrinking(layer_found, finite_gradients):
            kept = [finding for finding in layer_found + found
                    if finding.kind not in EXPLAINED_BY_OVER_REGULARIZATION]
            return _ordered(_without_consequences(kept) + shrunk)
    kept = _with_stall_explained(layer_found + found, _without_consequences(layer_found + found), t)
    to_check = _learning_rate_rules.dead_layers_to_check(finite_activations, curve, t, dominators)
    return _ordered(_with_units_killed(kept, finite_gradients, t, suggestion, to_check))


def _with_stall_explained(findings, kept, t):
    """`kept` with `loss_not_decreasing`, if a cause explains it, named in
    that cause's evidence as `explains` (the first cause in `KIND_ORDER`):
    a layer cause (`_STALL_CAUSES`), or a schedule that decayed steps that
    were big enough in the first epoch to nothing (`learning_rate_too_low`
    with `first_epoch_model_update_ratio` of `update_ratio_low` or more),
    whose advice "raise the learning rate" would contradict. A constant rate
    too low agrees with that advice: the stalled curve stays on its own."""
    causes = [f for f in kept if f.kind in _STALL_CAUSES or _decayed_schedule(f, t)]
    if not causes or not any(f.kind == "loss_not_decreasing" for f in findings):
        return kept
    cause = min(causes, key=lambda finding: KIND_ORDER.index(finding.kind))
    cause.evidence["explains"] = sorted({*cause.evidence.get("explains", ()), "loss_not_decreasing"})
    return [f for f in kept if f.kind != "loss_not_decreasing"]


def _decayed_schedule(finding, t):
    first = finding.evidence.get("first_epoch_model_update_ratio", 0.0)
    return finding.kind == "learning_rate_too_low" and first >= t["update_ratio_low"]


def _with_units_killed(findings, gradients, t, suggestion, to_check=()):
    """The findings with one `learning_rate_too_high` in place of the
    `dead_relu` findings of ReLU layers that too big steps killed
    (`_learning_rate_rules.units_killed_by_big_steps`), and of what that
    explains (a stalled curve): their kinds go into its evidence as
    `explains`, as for `loss_output_mismatch`. It comes first unless a
    cause earlier in `KIND_ORDER` is found too (a blow-up, or units dead
    from the first record). `to_check` are more dead layers to read
    (`dead_layers_to_check`): reported only as killed units."""
    reported = {f.layer for f in findings if f.kind == "dead_relu"}
    candidates = findings + [f for f in to_check if f.layer not in reported]
    killed, evidence, layer = _learning_rate_rules.units_killed_by_big_steps(candidates, gradients, t)
    if not killed:
        return findings
    gone = {id(finding) for finding in killed}
    rest = [f for f in findings if id(f) not in gone and f.kind != "learning_rate_too_high"]
    # Another rule's evidence of too big steps (an epoch loss far above chance) stays.
    high = next((f for f in findings if f.kind == "learning_rate_too_high"), None)
    if high is not None:
        evidence = {**high.evidence, **evidence, "curve": high.evidence["curve"] + evidence["curve"]}
    first = min(killed, key=lambda finding: finding.step)
    cause = Finding("learning_rate_too_high", layer, first.epoch, first.step, evidence,
                    advice_for("units_killed", suggestion))
    kept = _without_consequences(rest + [cause])
    # What the killed units' findings explained, they explain no more.
    explained = {kind for f in killed for kind in f.evidence.get("explains", ())}
    cause.evidence["explains"] = sorted(({f.kind for f in findings + killed} - {f.kind for f in kept})
                                        | explained)
    return kept


def gradients_blown_up(findings):
    return any(finding.kind in _BLOWN_UP for finding in findings)


def _before_non_finite(gradients, activations):
    if not _layer_rules.gradients_non_finite(gradients):
        return gradients, activations
    first = gradients.loc[gradients["non_finite"] > 0, "step"].min()
    if activations is not None:
        activations = activations[activations["step"] < first]
    return gradients[gradients["step"] < first], activations


def _without_consequences(findings):
    kinds = {finding.kind for finding in findings}
    return [
        finding for finding in findings
        if not kinds.intersection(EXPLAINED_BY.get(finding.kind, ()))
    ]


def _ordered(findings):
    return sorted(findings, key=lambda finding: KIND_ORDER.index(finding.kind))


def as_frame(findings):
    """The findings as a DataFrame (one row each), for reports and tests."""
    return pd.DataFrame(
        [
            {"kind": f.kind, "layer": f.layer, "epoch": f.epoch, "step": f.step,
             "evidence": f.evidence, "advice": f.advice}
            for f in findings
        ],
        columns=["kind", "layer", "epoch", "step", "evidence", "advice"],
    )
