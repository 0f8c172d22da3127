"""Pure decisions over recorded gradient numbers: vanishing, exploding, non-finite.

Nothing here trains or touches Keras: `gradient_findings` reads a
`GradientMonitor.to_dataframe()`-shaped table and returns `Finding`s, so the
rules are tested on hand-made numbers.
"""

import numpy as np

from keras_recipes.callbacks.diagnosis_thresholds import DIAGNOSIS_THRESHOLDS
from keras_recipes.callbacks.findings import Finding

#: Gradient norms beyond this are exploding whatever their starting level.
EXPLODING_ABSOLUTE = 1e6
#: A gradient norm at or below this is no gradient at all (the doctor's threshold).
ZERO_NORM = DIAGNOSIS_THRESHOLDS["zero_grad_norm"][0]

ADVICE = {
    "vanishing_gradient": (
        "gradients reaching this layer are tiny next to the largest layer's; use "
        "ReLU-family activations with He initialization, add BatchNormalization, "
        "or use residual connections"
    ),
    "zero_gradient": (
        "no gradient reaches this layer (its norm is 0): the units after it are "
        "dead, or an op without a gradient (argmax, round, a cast to an integer "
        "type) or a stop_gradient cuts the backward path; a larger learning rate "
        "cannot help"
    ),
    "exploding_gradient": (
        "lower the learning rate, clip gradients (e.g. `clipnorm=1.0` on the "
        "optimizer), or add normalization layers"
    ),
    "non_finite": (
        "lower the learning rate, clip gradients, check the inputs and labels for "
        "NaN/Inf, and guard the loss against log(0) or division by zero"
    ),
}


def gradient_findings(table, vanishing_threshold=1e-3, exploding_threshold=100.0, loss_non_finite_at=None,
                      not_compared=()):
    """Diagnoses recorded gradient numbers.

    Args:
        table: A `pandas.DataFrame` with columns `step`, `epoch`, `layer`,
            `grad_norm`, `grad_norm_max`, `non_finite`, layers listed in the
            model's forward order.
        vanishing_threshold: A layer's gradient norm below this fraction of
            the largest layer's norm at the same step, in at least half of
            the logged steps, is vanishing; so is every layer's at a record
            where no layer got any gradient since the previous one.
            Defaults to `1e-3`.
        exploding_threshold: A layer whose gradient norm (running maximum)
            reaches more than this many times its median recorded norm, or
            more than `EXPLODING_ABSOLUTE`, is exploding. Defaults to `100.0`.
        loss_non_finite_at: `(epoch, step)` where the loss was first NaN/Inf,
            or `None`. Defaults to `None`.
        not_compared: Layers left out of the vanishing rule (normalization
            layers: the gradient of a scale is not comparable with a
            kernel's). Defaults to `()`.

    Returns:
        A list of `Finding`s, at most one per kind.
    """
    findings = [
        _non_finite(table, loss_non_finite_at),
        _vanishing(table[~table["layer"].isin(list(not_compared))], vanishing_threshold),
        _exploding(table, exploding_threshold),
    ]
    return [finding for finding in findings if finding is not None]


def _layer_order(table):
    return list(dict.fromkeys(table["layer"]))


def _non_finite(table, loss_non_finite_at):
    bad = table[table["non_finite"] > 0]
    if len(bad):
        first = bad[bad["step"] == bad["step"].min()]
        order = _layer_order(table)
        layers = sorted(first["layer"], key=order.index)
        # Backpropagation reaches the last affected layer first; the layers
        # before it only inherit its NaNs.
        return Finding(
            kind="non_finite",
            layer=layers[-1],
            epoch=int(first["epoch"].iloc[0]),
            step=int(first["step"].iloc[0]),
            evidence={"non_finite": int(first["non_finite"].sum()), "layers": layers},
            advice=ADVICE["non_finite"],
        )
    if loss_non_finite_at is not None:
        epoch, step = loss_non_finite_at
        return Finding(
            kind="non_finite", layer=None, epoch=int(epoch), step=int(step),
            evidence={"loss": "non-finite"}, advice=ADVICE["non_finite"],
        )
    return None


def _vanishing(table, threshold):
    norms, largest, ratio = _ratios_to_largest(table)
    if norms.empty:
        return None
    vanishing = [layer for layer in ratio.columns if (ratio[layer] < threshold).mean() >= 0.5]
    if not vanishing:
        return None
    layer = vanishing[0]
    first_step = int(ratio.index[(ratio[layer] < threshold).to_numpy()][0])
    return Finding(
        kind="vanishing_gradient",
        layer=layer,
        epoch=_epoch_at(table, first_step),
        step=first_step,
        evidence={
            "grad_norm": float(norms[layer].median()),
            "largest_layer_grad_norm": float(largest.median()),
            "ratio": float(ratio[layer].median()),
            "layers": vanishing,
        },
        advice=ADVICE["zero_gradient" if norms[layer].median() <= ZERO_NORM else "vanishing_gradient"],
    )


def _ratios_to_largest(table):
    """(norms, the largest layer's norm, the ratios of the norms to it), one
    row per logged step. Where no layer got a gradient since the previous
    record every layer's has vanished (ratio 0); one step without any (a
    batch of one predicted right with certainty) says nothing and is left out."""
    norms = table.pivot_table(index="step", columns="layer", values="grad_norm", aggfunc="first")
    norms = norms[_layer_order(table)].replace([np.inf, -np.inf], np.nan).dropna()
    maxima = table.pivot_table(index="step", columns="layer", values="grad_norm_max", aggfunc="first")
    silent = maxima.reindex(norms.index).max(axis=1) <= ZERO_NORM
    largest = norms.max(axis=1)
    keep = (largest > ZERO_NORM) | silent
    norms, largest, silent = norms[keep], largest[keep], silent[keep]
    return norms, largest, norms.div(largest.where(~silent, 1.0), axis=0)


def _exploding(table, threshold):
    hits = []
    for layer, rows in table.groupby("layer", sort=False):
        rows = rows.sort_values("step")
        finite = rows[np.isfinite(rows["grad_norm"]) & (rows["grad_norm"] > 0)]
        if finite.empty:
            continue
        baseline = float(finite["grad_norm"].median())
        peaks = rows["grad_norm_max"].to_numpy(dtype=float)
        crossed = (peaks > threshold * baseline) | (peaks > EXPLODING_ABSOLUTE)
        if crossed.any():
            at = rows.iloc[int(np.argmax(crossed))]
            hits.append((int(at["step"]), -at["grad_norm_max"] / baseline, layer, at, baseline))
    if not hits:
        return None
    step, _, layer, at, baseline = min(hits, key=lambda hit: hit[:2])
    return Finding(
        kind="exploding_gradient",
        layer=layer,
        epoch=int(at["epoch"]),
        step=step,
        evidence={
            "grad_norm_max": float(at["grad_norm_max"]),
            "median_grad_norm": baseline,
            "growth": float(at["grad_norm_max"] / baseline),
        },
        advice=ADVICE["exploding_gradient"],
    )


def _epoch_at(table, step):
    return int(table.loc[table["step"] == step, "epoch"].iloc[0])
