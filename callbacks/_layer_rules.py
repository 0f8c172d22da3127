"""Decision rules over the monitors' per-layer tables (pure functions).

Inputs are the DataFrames of `GradientMonitor.to_dataframe()` and
`ActivationStats.to_dataframe()` and a summary of the training curve. A layer
symptom must hold over a window of logged steps (not one batch), and the
symptoms that can be harmless (a few dead units in a net that learns fine)
count only when the training curve shows that learning is impaired. The
learning-rate rules, which read the same gradient table, are in
`_learning_rate_rules`.
"""

import math

import numpy as np

from keras_recipes.callbacks._activation_kinds import (
    FLAT_TAILS, activation_kind, dead_advice, without_collapsed_signal,
)
from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks._layer_folding import fold_downstream_dead, fold_saturated
from keras_recipes.callbacks.findings import Finding

# Curve findings that mean the optimization itself is unstable.
UNSTABLE_KINDS = ("diverging_loss", "oscillating_loss", "non_finite")


def window(frame, t):
    """The rows of the last `layer_window` fraction of logged steps, or `None`."""
    steps = np.sort(frame["step"].unique())
    if len(steps) < t["min_layer_rows"]:
        return None
    keep = max(int(math.ceil(len(steps) * t["layer_window"])), t["min_layer_rows"])
    return frame[frame["step"] >= steps[-keep]]


def persistent_layers(frame, condition, t):
    """Layers (in table order) whose `condition` holds at `persistence` of the window."""
    recent = window(frame, t)
    if recent is None:
        return []
    held = condition(recent).groupby(recent["layer"], sort=False).mean()
    return [layer for layer in frame["layer"].unique() if held.get(layer, 0.0) >= t["persistence"]]


def first_step(frame, layer, condition):
    """(epoch, step) of the first logged row of `layer` where `condition` held."""
    rows = frame[frame["layer"] == layer]
    rows = rows[condition(rows).to_numpy()]
    return int(rows["epoch"].iloc[0]), int(rows["step"].iloc[0])


def vanishing_findings(gradients, curve, t, suggestion=None):
    """`vanishing_gradient` at the first layer that gets no gradient at all
    (`zero_gradient_findings`), else at the first whose gradient is 1e-3 of
    the output layer's."""
    if gradients is None or gradients.empty or curve["progress"] >= t["impaired_progress"]:
        return []
    zero = zero_gradient_findings(gradients, curve, t)
    if zero:
        return zero
    order = list(gradients["layer"].unique())
    output = gradients[gradients["layer"] == order[-1]].set_index("step")["grad_norm"]
    ratio = gradients["grad_norm"] / gradients["step"].map(output).to_numpy()
    frame = gradients.assign(ratio=ratio.to_numpy())

    def condition(rows):
        return rows["ratio"] < t["vanishing_ratio"]

    layers = [layer for layer in persistent_layers(frame, condition, t) if layer != order[-1]]
    if not layers:
        return []
    layer = layers[0]
    rows = window(frame, t)
    mine = rows[rows["layer"] == layer]
    evidence = {
        "median_ratio_to_output_layer": float(mine["ratio"].median()),
        "median_grad_norm": float(mine["grad_norm"].median()),
        "output_layer_median_grad_norm": float(rows[rows["layer"] == order[-1]]["grad_norm"].median()),
        "layers_affected": len(layers),
        "loss_progress": curve["progress"],
    }
    epoch, step = first_step(frame, layer, condition)
    return [Finding("vanishing_gradient", layer, epoch, step, evidence, advice_for("vanishing_gradient"))]


def zero_gradient_findings(gradients, curve, t):
    """`vanishing_gradient` at the first layer whose gradient norm is 0 (at
    most `zero_grad_norm`) over the window, at the logged steps and every step
    between them (`grad_norm_max`: with batches of one, a confident right
    prediction alone gives a zero gradient), the output layer included.

    No ratio to the output layer can be read when its gradient is 0 too
    (everything before it dead), and then every update is 0: no learning
    rate moves a layer that gets no gradient. Dead units the activation
    monitor sees explain this finding (`dead_relu`); a ReLU applied inside a
    user-defined layer's `call`, an op without a gradient or a
    `stop_gradient` leave only these zeros.
    """
    def condition(rows):
        return (rows["grad_norm"] <= t["zero_grad_norm"]) & (rows["grad_norm_max"] <= t["zero_grad_norm"])

    layers = persistent_layers(gradients, condition, t)
    if not layers:
        return []
    rows = window(gradients, t)
    evidence = {
        "grad_norm": float(rows.loc[rows["layer"] == layers[0], "grad_norm"].median()),
        "layers_without_gradient": layers,
        "loss_progress": curve["progress"],
    }
    epoch, step = first_step(gradients, layers[0], condition)
    return [Finding("vanishing_gradient", layers[0], epoch, step, evidence, advice_for("zero_gradient"))]


def exploding_findings(gradients, curve, t, suggestion=None):
    """`exploding_gradient` where a layer's norm grew 100x, on an unstable curve."""
    unstable = set(curve["kinds"]) & set(UNSTABLE_KINDS) or gradients_non_finite(gradients)
    if gradients is None or gradients.empty or not unstable:
        return []
    best = None
    for layer, rows in gradients.groupby("layer", sort=False):
        norms = rows["grad_norm"].to_numpy(dtype="float64")
        early = float(norms[np.isfinite(norms)][0]) if np.isfinite(norms).any() else math.inf
        peaks = rows["grad_norm_max"].to_numpy(dtype="float64")
        peaks = np.where(np.isnan(peaks) & (rows["non_finite"].to_numpy() > 0), np.inf, peaks)
        # An infinite peak (nan_to_num makes it 1.8e308) over a small first
        # norm overflows to inf: the growth it means.
        with np.errstate(over="ignore"):
            growth = np.nan_to_num(peaks, nan=0.0) / max(early, 1e-30)
        hits = np.flatnonzero(growth >= t["exploding_growth"])
        if len(hits) and (best is None or growth.max() > best[1]):
            row = rows.iloc[hits[0]]
            best = (layer, float(growth.max()), early, float(peaks[hits[0]]), row)
    if best is None:
        return []
    layer, growth, early, peak, row = best
    evidence = {"first_grad_norm": early, "grad_norm_when_seen": peak, "growth": growth}
    return [Finding("exploding_gradient", layer, int(row["epoch"]), int(row["step"]), evidence,
                    advice_for("exploding_gradient", suggestion))]


def gradients_non_finite(gradients):
    """True if any logged row counts steps with non-finite gradients."""
    return gradients is not None and not gradients.empty and gradients["non_finite"].sum() > 0


def non_finite_findings(gradients, suggestion=None):
    """`non_finite` at the first layer and step whose gradients held a NaN or Inf."""
    if not gradients_non_finite(gradients):
        return []
    row = gradients[gradients["non_finite"] > 0].iloc[0]
    evidence = {"non_finite_steps": int(gradients["non_finite"].sum())}
    return [Finding("non_finite", row["layer"], int(row["epoch"]), int(row["step"]), evidence,
                    advice_for("non_finite", suggestion))]


# Activation symptoms: (kind, activations it applies to, column, threshold,
# progress threshold of the confirmation by the curve, whether the output
# layer counts). A saturated sigmoid or softmax OUTPUT is a confident
# prediction, not a problem; a hidden softmax saturated on most examples
# passes almost no gradient back. Units on the flat tail of GELU, SiLU,
# ELU... are dead as ReLU's are (an ELU of any alpha: `activation_kind`).
ACTIVATION_SYMPTOMS = (
    ("dead_relu", ("relu", *FLAT_TAILS), "dead_fraction", "dead_fraction", "impaired_progress", True),
    ("saturated_activation", ("sigmoid", "tanh", "softmax"), "saturated_fraction",
     "saturated_fraction", "saturation_progress", False),
)


def activation_findings(activations, curve, t, suggestion=None, dominators=None, outputs=()):
    """`dead_relu` / `saturated_activation`, one per affected layer.

    `dominators` (`{layer: {layers every path to it goes through}}`) folds a
    dead layer behind a wholly dead one into that one's finding: it gets only
    zeros, so it is dead because of it (`downstream_dead_layers`). Saturated
    layers are one finding, on the first (`also_saturated_layers`).
    """
    if activations is None or activations.empty:
        return []
    # The last watched layer and every layer making a model output (the
    # heads of a several-output model): a saturated output is a confident one.
    found, output_layers = [], {activations["layer"].unique()[-1], *outputs}
    for kind, names, column, threshold, confirm, with_output in ACTIVATION_SYMPTOMS:
        frame = activations[activations["activation"].map(activation_kind).isin(names)]
        if not with_output:
            frame = frame[~frame["layer"].isin(output_layers)]
        if frame.empty or curve["progress"] >= t[confirm]:
            continue

        def condition(rows, column=column, limit=t[threshold]):
            return rows[column] >= limit

        for layer in persistent_layers(frame, condition, t):
            recent = window(frame, t)
            mine = recent[recent["layer"] == layer]
            evidence = {
                f"median_{column}": float(mine[column].median()),
                "activation": str(mine["activation"].iloc[0]),
                "window_steps": int(mine["step"].nunique()),
                "loss_progress": curve["progress"],
            }
            epoch, step = first_step(frame, layer, condition)
            advice = _symptom_advice(kind, evidence["activation"], suggestion)
            found.append(Finding(kind, layer, epoch, step, evidence, advice))
    if found:
        found = without_collapsed_signal(found, window(activations, t))
    found = fold_downstream_dead(found, dominators or {}, activations["layer"].unique())
    return fold_saturated(found)


def _symptom_advice(kind, activation, suggestion):
    """The advice of an activation symptom: dead units on a flat tail name
    it, a saturated softmax gets its own."""
    if kind == "dead_relu":
        return dead_advice(activation, suggestion)
    return advice_for("saturated_softmax" if activation == "softmax" else kind, suggestion)


def over_regularization_findings(gradients, curve, t, regularized):
    """`underfitting` caused by the regularization: with L2 or weight decay on
    and the loss impaired, a kernel whose norm shrank below `weight_collapse`
    of its first logged value. Without a penalty, training does not shrink
    weights that far; with one, a network whose weights decayed to almost
    nothing also shows dead ReLUs and a loss at chance, its consequences.
    """
    if not regularized or gradients is None or gradients.empty:
        return []
    if curve["progress"] >= t["impaired_progress"]:
        return []
    finite = gradients[np.isfinite(gradients["weight_norm"].to_numpy(dtype="float64"))]
    shrink = {}
    for layer, rows in finite.groupby("layer", sort=False):
        first = float(rows["weight_norm"].iloc[0])
        if first > 0:
            shrink[layer] = (float(rows["weight_norm"].iloc[-1]) / first, first, rows.iloc[-1])
    collapsed = {layer: value for layer, value in shrink.items() if value[0] < t["weight_collapse"]}
    if not collapsed:
        return []
    layer = min(collapsed, key=lambda name: collapsed[name][0])
    ratio, first, row = collapsed[layer]
    epoch, step = first_step(finite, layer, lambda rows: rows["weight_norm"] < t["weight_collapse"] * first)
    evidence = {
        "weight_norm_first": first,
        "weight_norm_last": float(row["weight_norm"]),
        "weight_norm_shrink": ratio,
        "layers_shrunk": len(collapsed),
        "loss_progress": curve["progress"],
    }
    return [Finding("underfitting", layer, epoch, step, evidence, advice_for("over_regularization"))]


#: A dead layer first seen while the kernels still had this share of their
#: first norm died on its own: the weights shrank after (with Adam, a small
#: L2 penalty alone moves the weights of dead units at full step size). The
#: same holds for saturated and vanishing layers.
_STILL_WHOLE = 0.5


#: Layer symptoms that, seen before the weights shrank, are the cause.
_EARLIER_CAUSES = ("dead_relu", "saturated_activation", "vanishing_gradient")


def dead_before_shrinking(findings, gradients):
    """Whether a dead, saturated or vanishing layer was first seen before the
    weights shrank (then it is the cause, not the regularization)."""
    if gradients is None or gradients.empty:
        return False
    for finding in findings:
        if finding.kind not in _EARLIER_CAUSES or finding.step is None:
            continue
        rows = gradients[gradients["layer"] == finding.layer]
        if rows.empty:  # an activation layer has no kernel: read every layer
            rows = gradients
        first = rows.groupby("layer", sort=False)["weight_norm"].first()
        then = rows[rows["step"] <= finding.step].groupby("layer", sort=False)["weight_norm"].last()
        if then.empty:
            return True  # dead at the very first record
        if float((then / first.loc[then.index]).median()) >= _STILL_WHOLE:
            return True
    return False
