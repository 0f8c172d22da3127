"""Learning-rate rules over the gradient monitor's table (pure functions).

`learning_rate_findings` reads the update-to-weight ratios of
`GradientMonitor.to_dataframe()` against a summary of the training curve:
`learning_rate_too_high` when big steps come with an unstable curve, an
epoch loss many times the reference or a jagged validation loss;
`learning_rate_too_low` when every weight crawls (`model_update_ratio`) and
the loss stalled, or when a slow but steady curve comes with weights that
hardly move in an epoch (`_crawl_rules`). `units_killed_by_big_steps` finds
the ReLU layers that big first steps killed: their dead units are a
consequence of the learning rate.
"""

from keras_recipes.callbacks import _layer_rules
from keras_recipes.callbacks._advice import advice_for
from keras_recipes.callbacks._crawl_rules import model_update_ratio, too_low_on_slow_curve
from keras_recipes.callbacks._layer_rules import UNSTABLE_KINDS
from keras_recipes.callbacks._progress_rules import SLOW_PROGRESS
from keras_recipes.callbacks.findings import Finding


#: Curve findings of a loss that stalled, or crawls (`SLOW_PROGRESS`): with
#: every weight crawling, the learning rate is why.
STALLED_KINDS = ("loss_not_decreasing", "underfitting", SLOW_PROGRESS)


def learning_rate_findings(gradients, curve, t, suggestion=None):
    """`learning_rate_too_high` / `_too_low` from the update/weight ratio and the curve.

    `curve` holds the curve findings' `kinds`, `progress`, the `worst` epoch
    loss (in multiples of the reference) and its `worst_epoch`, and
    `val_jumps` (`_oscillation_rules.validation_jumps`).
    """
    if gradients is None or gradients.empty:
        return []
    finite = gradients[gradients["non_finite"].cumsum() == 0]
    if finite.empty:
        finite = gradients.iloc[: max(1, len(gradients) // 10)]
    ratios = finite.groupby("layer", sort=False)["update_ratio"].median()
    for rule in (_too_high_on_unstable_curve, _too_high_before_worst_epoch,
                 _too_high_on_jagged_curve, _too_low_on_stalled_curve, too_low_on_slow_curve):
        found = rule(finite, ratios, curve, t)
        if found is not None:
            kind, layer, evidence, *advice = found
            advice = advice_for(advice[0] if advice else kind, suggestion)
            return [Finding(kind, layer, None, None, evidence, advice)]
    return []


def _too_high_on_unstable_curve(finite, ratios, curve, t):
    unstable = sorted(set(curve["kinds"]) & set(UNSTABLE_KINDS))
    if unstable and float(ratios.max()) >= t["update_ratio_high"]:
        evidence = {"median_update_ratio": float(ratios.max()), "curve": unstable}
        return "learning_rate_too_high", str(ratios.idxmax()), evidence
    return None


def _too_high_before_worst_epoch(finite, ratios, curve, t):
    """An epoch's loss many times the reference (chance, or the start, plus
    the regularization penalty) is as unstable as a diverging one, if the
    steps were big up to then: afterwards dead units or settled weights make
    them small again."""
    if curve.get("worst", 0.0) < t["high_loss_factor"]:
        return None
    early = finite[finite["epoch"] <= curve["worst_epoch"]]
    if early.empty:
        return None
    early_ratios = early.groupby("layer", sort=False)["update_ratio"].median()
    # `not >=`: ratios that are all NaN (a NaN from the first steps) say nothing.
    if not float(early_ratios.max()) >= t["update_ratio_high"]:
        return None
    evidence = {"median_update_ratio": float(early_ratios.max()),
                "curve": [f"epoch loss up to {curve['worst']:.3g}x the reference"],
                "up_to_epoch": int(curve["worst_epoch"])}
    return "learning_rate_too_high", str(early_ratios.idxmax()), evidence


def _too_high_on_jagged_curve(finite, ratios, curve, t):
    """A validation loss that jumps up and down in `jagged_fraction` of the
    epochs each, too few for `oscillating_loss`, is too big steps when a
    layer's updates are `update_ratio_high` of its weights (an RNN at Adam
    0.1-1.0): healthy runs with such updates do not jump both ways."""
    rises, falls, changes = curve.get("val_jumps", (0, 0, 0))
    if min(rises, falls) < max(2, t["jagged_fraction"] * changes):
        return None
    if float(ratios.max()) < t["update_ratio_high"]:
        return None
    evidence = {"median_update_ratio": float(ratios.max()),
                "curve": [f"validation loss jumps up {rises} and down {falls} times in {changes + 1} epochs"]}
    return "learning_rate_too_high", str(ratios.idxmax()), evidence


def _too_low_on_stalled_curve(finite, ratios, curve, t):
    """Every weight crawls (`model_update_ratio` below `update_ratio_low`) and
    the loss stalled: not decreasing, or a plateau read as underfitting (a
    crawl of a few % of chance clears `loss_not_decreasing`). Steps that were
    big enough in the first epoch were shrunk by a schedule."""
    stalled = sorted(set(curve["kinds"]) & set(STALLED_KINDS))
    moved = model_update_ratio(finite)
    if not stalled or not moved < t["update_ratio_low"]:
        return None
    first = model_update_ratio(finite[finite["epoch"] == finite["epoch"].min()])
    evidence = {"model_update_ratio": moved, "largest_median_update_ratio": float(ratios.max()),
                "first_epoch_model_update_ratio": first, "loss_progress": curve["progress"],
                "curve": stalled}
    advice = "learning_rate_decayed" if first >= t["update_ratio_low"] else "learning_rate_too_low"
    return "learning_rate_too_low", None, evidence, advice


def dead_layers_to_check(activations, curve, t, dominators=None):
    """The `dead_relu` findings `units_killed_by_big_steps` may read beyond
    the reported ones: confirmed by the curve at `killed_progress`, not
    `impaired_progress`. Steps that kill the units are evidence of their own
    that the learning rate is far too high; the curve need only show that
    the run did not learn well anyway (the units that survive still learn:
    killing slows learning, it need not stop it)."""
    relaxed = {**t, "impaired_progress": t["killed_progress"]}
    found = _layer_rules.activation_findings(activations, curve, relaxed, None, dominators)
    return [finding for finding in found if finding.kind == "dead_relu"]


def units_killed_by_big_steps(findings, gradients, t):
    """The `dead_relu` findings of layers that too big steps killed, and the evidence.

    A ReLU layer alive at the first record (its `dead_relu` finding is first
    seen later) that died after steps of `update_ratio_high` of the weights
    or more (the largest layer median over the records before it died) was
    killed by the learning rate: big steps push every pre-activation below
    0, and no gradient brings a dead unit back (plain SGD at 5 on a digits
    CNN moves the convolutions by a quarter of their norm at the first step,
    and every unit is dead by the tenth). Units dead at the first record died of
    their initialization; once dead, nothing moves, so only the records
    before tell the step size.

    Returns:
        `(killed, evidence, layer)`: the `dead_relu` findings of the killed
        layers (`[]` if none), the evidence of `learning_rate_too_high` and
        the layer of the largest steps.
    """
    if gradients is None or gradients.empty:
        return [], None, None
    finite = gradients[gradients["non_finite"].cumsum() == 0]
    killed, largest = [], None
    for finding in findings:
        if finding.kind != "dead_relu" or finding.step is None:
            continue
        alive = finite[finite["step"] < finding.step]
        ratios = alive.groupby("layer", sort=False)["update_ratio"].median().dropna()
        if ratios.empty or float(ratios.max()) < t["update_ratio_high"]:
            continue
        killed.append(finding)
        if largest is None or float(ratios.max()) > largest[0]:
            largest = (float(ratios.max()), str(ratios.idxmax()))
    if not killed:
        return [], None, None
    first = min(finding.step for finding in killed)
    dead = [layer for finding in killed
            for layer in (finding.layer, *finding.evidence.get("downstream_dead_layers", ()))]
    evidence = {"median_update_ratio": largest[0],
                "curve": [f"ReLU layers alive at the first record, dead from step {first}"],
                "dead_layers": dead}
    return killed, evidence, largest[1]
