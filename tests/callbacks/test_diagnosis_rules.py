import math

import numpy as np
import pandas as pd
import pytest

from keras_recipes.callbacks import DIAGNOSIS_THRESHOLDS
from keras_recipes.callbacks import _curve_rules
from keras_recipes.callbacks._diagnosis import diagnose
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds

CHANCE = math.log(10)
LAYERS = ("dense", "dense_1", "dense_2")


def _gradients(norms, update_ratio=1e-3, steps=12, non_finite_at=None):
    """`norms`: layer -> function(i) giving the grad norm at the i-th logged step."""
    rows = []
    for i in range(steps):
        for layer in LAYERS:
            norm = norms.get(layer, lambda i: 0.5)(i)
            bad = int(non_finite_at is not None and i >= non_finite_at)
            rows.append({"step": 5 * i, "epoch": i // 2, "layer": layer, "grad_norm": norm,
                         "grad_norm_max": norm, "weight_norm": 3.0,
                         "update_ratio": update_ratio, "non_finite": bad})
    return pd.DataFrame(rows)


def _activations(kinds, steps=12):
    """`kinds`: layer -> (activation, dead_fraction(i), saturated_fraction(i))."""
    rows = []
    for i in range(steps):
        for layer, (activation, dead, saturated) in kinds.items():
            rows.append({"step": 5 * i, "epoch": i // 2, "layer": layer, "activation": activation,
                         "mean": 0.1, "std": 0.5, "min": 0.0, "max": 1.0,
                         "saturated_fraction": saturated(i), "dead_fraction": dead(i)})
    return pd.DataFrame(rows)


def _curves(kind):
    epochs = np.arange(10)
    if kind == "healthy":
        loss = 0.05 + 2.2 * np.exp(-epochs)
        return pd.DataFrame({"loss": loss, "val_loss": loss + 0.05})
    if kind == "flat":
        return pd.DataFrame({"loss": [2.31, 2.305, 2.303, 2.303, 2.302, 2.302]})
    if kind == "slow":
        return pd.DataFrame({"loss": [2.3, 2.0, 1.8, 1.7, 1.65, 1.63]})
    if kind == "far_above_chance":  # thrown off by big steps, then stuck there
        return pd.DataFrame({"loss": [1417.8, 1473.8, 1500.5, 1553.1, 1538.8, 1590.3]})
    if kind == "thrown_off_then_stuck":  # big steps kill the units, then nothing moves
        return pd.DataFrame({"loss": [6393.5, 2.48, 2.48, 2.48, 2.48, 2.48]})
    if kind == "bad_start":  # a huge first epoch, then a normal descent
        return pd.DataFrame({"loss": [40.0, 2.0, 1.2, 0.8, 0.6, 0.5]})
    if kind == "oscillating":
        return pd.DataFrame({"loss": [2.0, 1.2, 1.9, 1.0, 1.8, 1.1]})
    raise ValueError(kind)


def _kinds(curves, gradients=None, activations=None, **thresholds):
    findings = diagnose(_curves(curves), gradients, activations, resolve_thresholds(thresholds),
                        chance_loss=CHANCE)
    return [(f.kind, f.layer) for f in findings], findings


HEALTHY_RELU = {"dense": ("relu", lambda i: 0.1, lambda i: np.nan),
                "dense_1": ("relu", lambda i: 0.2, lambda i: np.nan),
                "dense_2": ("softmax", lambda i: np.nan, lambda i: np.nan)}


def test_every_threshold_has_a_reason():
    for name, (value, reason) in DIAGNOSIS_THRESHOLDS.items():
        assert isinstance(value, (int, float)) and len(reason) > 20, name


def test_healthy_tables_give_no_finding():
    kinds, _ = _kinds("healthy", _gradients({}), _activations(HEALTHY_RELU))
    assert kinds == []


def test_vanishing_gradient_needs_a_window_and_a_stalled_curve():
    tiny = {"dense": lambda i: 1e-7, "dense_1": lambda i: 1e-5}
    kinds, findings = _kinds("flat", _gradients(tiny))
    assert kinds == [("vanishing_gradient", "dense")]  # the stalled curve is its consequence
    assert findings[0].evidence["explains"] == ["loss_not_decreasing"]
    assert findings[0].evidence["median_ratio_to_output_layer"] == pytest.approx(2e-7)
    assert findings[0].evidence["layers_affected"] == 2
    assert (findings[0].epoch, findings[0].step) == (0, 0)
    # The same gradients in a net that learns fine are no finding.
    assert _kinds("healthy", _gradients(tiny))[0] == []
    # One bad batch is no evidence.
    one_batch = {"dense": lambda i: 1e-7 if i == 10 else 0.5}
    assert _kinds("flat", _gradients(one_batch))[0] == [("loss_not_decreasing", None)]


def test_dead_relu_is_confirmed_by_the_curve_and_explains_vanishing():
    dead = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.9 if i >= 3 else 0.1, lambda i: np.nan))
    zero = {"dense": lambda i: 0.0}
    kinds, findings = _kinds("flat", _gradients(zero), _activations(dead))
    assert kinds == [("dead_relu", "dense_1")]  # no "raise the learning rate" beside it
    assert findings[0].evidence["explains"] == ["loss_not_decreasing"]
    assert findings[0].evidence["median_dead_fraction"] == pytest.approx(0.9)
    assert findings[0].step == 15  # first seen at the 4th logged step
    assert "He initialization" in findings[0].advice
    assert _kinds("healthy", _gradients({}), _activations(dead))[0] == []


def test_dead_layers_behind_a_wholly_dead_one_are_folded_into_its_finding():
    chain = {"dense": ("relu", lambda i: 1.0, lambda i: np.nan),
             "dense_1": ("relu", lambda i: 1.0, lambda i: np.nan),
             "dense_2": ("relu", lambda i: 0.8, lambda i: np.nan)}
    tables = (_curves("flat"), None, _activations(chain), resolve_thresholds({}))
    unfolded = diagnose(*tables, chance_loss=CHANCE)
    assert [f.layer for f in unfolded if f.kind == "dead_relu"] == ["dense", "dense_1", "dense_2"]
    # Every path to dense_1 and dense_2 goes through dense: they get only zeros.
    behind = {"dense_1": {"dense"}, "dense_2": {"dense", "dense_1"}}
    folded = diagnose(*tables, chance_loss=CHANCE, dominators=behind)
    dead = [f for f in folded if f.kind == "dead_relu"]
    assert [f.layer for f in dead] == ["dense"]
    assert dead[0].evidence["downstream_dead_layers"] == ["dense_1", "dense_2"]
    # A layer with another way in, or behind a layer only partly dead, keeps its own finding.
    partly = dict(chain, dense=("relu", lambda i: 0.9, lambda i: np.nan))
    kept = diagnose(_curves("flat"), None, _activations(partly), resolve_thresholds({}),
                    chance_loss=CHANCE, dominators=behind)
    assert [f.layer for f in kept if f.kind == "dead_relu"] == ["dense", "dense_1"]
    assert kept[1].evidence["downstream_dead_layers"] == ["dense_2"]
    side = diagnose(*tables, chance_loss=CHANCE, dominators={"dense_2": {"dense_1"}})
    assert [f.layer for f in side if f.kind == "dead_relu"] == ["dense", "dense_1"]
    assert "downstream_dead_layers" not in side[0].evidence


def test_weights_decayed_to_nothing_point_at_the_regularization():
    # Half the ReLUs dead and the loss at chance, while the L2 penalty shrank
    # every kernel 1000x: the cause is the penalty, not the initialization.
    # The units die once the weights have shrunk (at the 4th record: 1/16 of them).
    dead = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.6 if i >= 4 else 0.1, lambda i: np.nan))
    gradients = _gradients({})
    gradients["weight_norm"] = 8.0 * 0.5 ** (gradients["step"] / 5.0)
    args = (_curves("flat"), gradients, _activations(dead), resolve_thresholds({}))
    findings = diagnose(*args, chance_loss=CHANCE, regularized=True)
    assert [(f.kind, f.layer) for f in findings] == [("underfitting", "dense")]
    evidence = findings[0].evidence
    assert evidence["weight_norm_first"] == 8.0 and evidence["layers_shrunk"] == 3
    assert evidence["weight_norm_shrink"] == pytest.approx(0.5 ** 11)
    assert (findings[0].epoch, findings[0].step) == (2, 20)  # first below 10% of 8.0
    assert "Lower the regularization" in findings[0].advice
    # Without a penalty, or with the weights kept, the old diagnosis stands.
    without = diagnose(*args, chance_loss=CHANCE, regularized=False)
    assert [f.kind for f in without] == ["dead_relu"]
    kept = diagnose(_curves("flat"), _gradients({}), _activations(dead), resolve_thresholds({}),
                    chance_loss=CHANCE, regularized=True)
    assert [f.kind for f in kept] == ["dead_relu"]
    # Units dead from the start, whose weights shrank afterwards (with Adam a
    # small L2 alone moves dead units' weights at full step size): dead_relu.
    dead_first = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.6, lambda i: np.nan))
    first = diagnose(_curves("flat"), gradients, _activations(dead_first), resolve_thresholds({}),
                     chance_loss=CHANCE, regularized=True)
    assert [f.kind for f in first] == ["dead_relu"]
    # A model that learns is not underfitting, whatever its weights did.
    assert diagnose(_curves("healthy"), gradients, _activations(HEALTHY_RELU),
                    resolve_thresholds({}), chance_loss=CHANCE, regularized=True) == []


def test_saturation_counts_while_learning_is_slow():
    saturated = {"dense": ("tanh", lambda i: np.nan, lambda i: 0.8),
                 "dense_2": ("softmax", lambda i: np.nan, lambda i: np.nan)}
    kinds, findings = _kinds("slow", _gradients({}), _activations(saturated))
    assert ("saturated_activation", "dense") in kinds
    assert findings[0].evidence["median_saturated_fraction"] == pytest.approx(0.8)
    assert _kinds("healthy", _gradients({}), _activations(saturated))[0] == []
    # A stricter threshold turns it off.
    assert ("saturated_activation", "dense") not in _kinds(
        "slow", _gradients({}), _activations(saturated), saturated_fraction=0.9)[0]


def test_saturated_sigmoid_output_is_a_confident_prediction():
    confident = {"dense": ("relu", lambda i: 0.1, lambda i: np.nan),
                 "dense_2": ("sigmoid", lambda i: np.nan, lambda i: 0.9)}
    assert _kinds("slow", _gradients({}), _activations(confident))[0] == []


def test_exploding_gradient_needs_an_unstable_curve():
    growing = {"dense": lambda i: 0.5 * 10.0 ** i}
    kinds, findings = _kinds("oscillating", _gradients(growing, update_ratio=0.05))
    assert kinds[:2] == [("exploding_gradient", "dense"), ("learning_rate_too_high", "dense")]
    assert ("oscillating_loss", None) in kinds
    assert findings[0].evidence["first_grad_norm"] == 0.5
    assert findings[0].step == 10  # the 3rd logged step is the first at 100x
    assert _kinds("healthy", _gradients(growing))[0] == []


def test_non_finite_gradients_give_one_finding_with_the_layer():
    gradients = _gradients({}, non_finite_at=4)
    curves = pd.DataFrame({"loss": [2.0, 1.5, float("nan")]})
    findings = diagnose(curves, gradients, None, resolve_thresholds(), chance_loss=CHANCE)
    non_finite = [f for f in findings if f.kind == "non_finite"]
    assert len(non_finite) == 1
    assert (non_finite[0].layer, non_finite[0].step) == ("dense", 20)
    assert non_finite[0].evidence["non_finite_steps"] == 8 * 3


def test_learning_rate_too_low_from_tiny_updates():
    kinds, findings = _kinds("flat", _gradients({}, update_ratio=1e-7))
    assert kinds == [("learning_rate_too_low", None), ("loss_not_decreasing", None)]
    assert findings[0].evidence["largest_median_update_ratio"] == pytest.approx(1e-7)
    # Normal updates on a flat curve do not blame the learning rate.
    assert _kinds("flat", _gradients({}))[0] == [("loss_not_decreasing", None)]


def test_learning_rate_too_high_from_a_loss_far_above_chance_with_big_updates():
    kinds, findings = _kinds("far_above_chance", _gradients({}, update_ratio=0.05))
    assert ("learning_rate_too_high", "dense") in kinds
    assert "loss_not_decreasing" not in [kind for kind, _ in kinds]  # its consequence
    evidence = [f.evidence for f in findings if f.kind == "learning_rate_too_high"][0]
    assert evidence["curve"] == ["epoch loss up to 691x the reference"]
    # The same curve with small updates is not the learning rate's doing, and
    # a huge first epoch that then falls is no finding with normal updates.
    assert "learning_rate_too_high" not in [k for k, _ in _kinds("far_above_chance", _gradients({}))[0]]
    assert _kinds("bad_start", _gradients({}))[0] == []


def test_learning_rate_too_high_reads_the_updates_up_to_the_worst_epoch():
    # Adam at lr 3: huge steps in epoch 0, then the ReLUs die and the updates
    # vanish, so the median over the whole run is about 0.
    gradients = _gradients({})
    gradients["update_ratio"] = np.where(gradients["epoch"] == 0, 0.5, 0.0)
    kinds, findings = _kinds("thrown_off_then_stuck", gradients)
    assert ("learning_rate_too_high", "dense") in kinds
    evidence = [f.evidence for f in findings if f.kind == "learning_rate_too_high"][0]
    assert evidence["up_to_epoch"] == 0 and evidence["median_update_ratio"] == pytest.approx(0.5)


def test_relus_killed_by_big_first_steps_are_a_learning_rate_too_high():
    # Plain SGD at 5 on a digits CNN (measured): the first step moves the
    # kernels by 0.28 of their norm, the ReLUs are dead from the next record
    # on, nothing moves after and the loss stays at chance, never far above.
    killed = {"dense": ("relu", lambda i: 0.0 if i == 0 else 0.94, lambda i: np.nan),
              "dense_1": ("relu", lambda i: 0.0 if i == 0 else 1.0, lambda i: np.nan),
              "dense_2": ("softmax", lambda i: np.nan, lambda i: np.nan)}
    gradients = _gradients({layer: (lambda i: 0.2 if i == 0 else 0.0) for layer in LAYERS})
    gradients["update_ratio"] = np.where(gradients["step"] == 0, 0.28, 0.0)
    kinds, findings = _kinds("flat", gradients, _activations(killed))
    assert kinds == [("learning_rate_too_high", "dense")]  # the cause first, the dead units in it
    assert (findings[0].epoch, findings[0].step) == (0, 5)
    assert findings[0].evidence["median_update_ratio"] == pytest.approx(0.28)
    assert findings[0].evidence["dead_layers"] == ["dense", "dense_1"]
    assert findings[0].evidence["explains"] == ["dead_relu", "loss_not_decreasing"]
    assert "pushed every pre-activation below 0" in findings[0].advice
    # Units dead at the first record died of their initialization ...
    dead_at_start = {layer: ("relu", lambda i: 1.0, lambda i: np.nan) for layer in ("dense", "dense_1")}
    kinds, _ = _kinds("flat", gradients, _activations(dead_at_start))
    assert [kind for kind, _ in kinds] == ["dead_relu", "dead_relu"]
    # ... and units that died after small steps did not die of the steps.
    gradients["update_ratio"] = np.where(gradients["step"] == 0, 1e-3, 0.0)
    kinds, _ = _kinds("flat", gradients, _activations(killed))
    assert [kind for kind, _ in kinds] == ["dead_relu", "dead_relu"]


def test_a_regularization_penalty_is_not_a_loss_far_above_chance():
    # L2 = 1.0: the logged loss starts near 1600 (penalty), the weights shrink
    # fast (big update ratios); that is the penalty, not the learning rate.
    curves, gradients = _curves("far_above_chance"), _gradients({}, update_ratio=0.05)
    thresholds = resolve_thresholds({})
    with_penalty = diagnose(curves, gradients, None, thresholds, chance_loss=CHANCE,
                            initial_penalty=1580.0)
    assert "learning_rate_too_high" not in [f.kind for f in with_penalty]
    without = diagnose(curves, gradients, None, thresholds, chance_loss=CHANCE)
    assert "learning_rate_too_high" in [f.kind for f in without]


def test_curves_validated_every_other_epoch():
    # `fit(validation_freq=2)`: the epochs without validation have NaN there.
    loss = np.linspace(1.0, 0.2, 10)
    val = np.array([0.9, 0.8, 0.7, 0.75, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4])
    every_other = np.where(np.arange(10) % 2 == 1, val, np.nan)
    for validation in (val, every_other):
        curves = pd.DataFrame({"loss": loss, "val_loss": validation})
        found = diagnose(curves, None, None, resolve_thresholds({}), chance_loss=CHANCE)
        assert [f.kind for f in found] == ["overfitting"]
    assert found[0].evidence["best_val_epoch"] == 3  # the second epoch validated every other
    improving = pd.DataFrame({"loss": np.linspace(2.0, 0.5, 8),
                              "val_loss": np.where(np.arange(8) % 2, np.linspace(2.1, 0.6, 8), np.nan)})
    found = diagnose(improving, None, None, resolve_thresholds({}), chance_loss=CHANCE)
    assert [f.kind for f in found] == ["needs_more_training"]
    # No epoch validated at all: judged on the training loss alone.
    flat = pd.DataFrame({"loss": [2.2, 2.19, 2.19, 2.19, 2.19], "val_loss": [np.nan] * 5})
    assert [f.kind for f in diagnose(flat, None, None, resolve_thresholds({}), chance_loss=CHANCE)] \
        == ["loss_not_decreasing"]


def test_network_level_causes_explain_needs_more_training():
    from keras_recipes.callbacks import Finding
    from keras_recipes.callbacks._diagnosis import _without_consequences

    more = Finding("needs_more_training", None, 0, None, {}, "")
    for cause in ("dead_relu", "saturated_activation", "vanishing_gradient"):
        found = _without_consequences([Finding(cause, "dense", 0, 0, {}, ""), more])
        assert [f.kind for f in found] == [cause]


def test_learning_rate_suggestion_reaches_the_advice():
    findings = diagnose(_curves("flat"), _gradients({}, update_ratio=1e-7), None,
                        resolve_thresholds(), chance_loss=CHANCE, suggestion=0.0316)
    assert all("0.0316" in f.advice for f in findings)


def test_curves_after_a_blow_up_are_not_read_as_training_progress():
    # Seen in the zoo: NaN weights behind a ReLU that outputs 0, a finite loss
    # that "improves" as the output bias learns.
    gradients = _gradients({}, non_finite_at=2)
    curves = pd.DataFrame({"loss": [4e29, 2e26, 7e24, 2e23]})
    findings = diagnose(curves, gradients, None, resolve_thresholds())
    assert [f.kind for f in findings] == ["non_finite"]


# Curves measured on the fault zoo's cases (digits, 10 classes).
SHUFFLED_LABELS = pd.DataFrame({
    "loss": [2.3685, 2.3013, 2.2683, 2.2554, 2.2251, 2.1962, 2.171, 2.1289, 2.0788, 2.0375],
    "val_loss": [2.2805, 2.2649, 2.2672, 2.2823, 2.3212, 2.3251, 2.3246, 2.3669, 2.3885, 2.4719]})
DROPOUT_0_9 = pd.DataFrame({
    "loss": [6.5635, 5.486, 4.3314, 3.675, 3.1258, 3.0538, 2.7589, 2.5808, 2.5408, 2.5405],
    "val_loss": [2.2984, 2.2631, 2.2637, 2.2733, 2.276, 2.2797, 2.2853, 2.2902, 2.2927, 2.2928]})
HALF_THE_LABELS_RANDOM = pd.DataFrame({
    "loss": [2.1781, 1.8591, 1.7212, 1.6497, 1.5433, 1.4816, 1.4331, 1.3949, 1.3553, 1.3128],
    "val_loss": [1.4323, 1.0464, 0.992, 0.9114, 0.798, 0.7874, 0.7956, 0.8084, 0.7555, 0.7621]})


def test_validation_loss_at_chance_while_the_training_loss_falls_is_memorizing():
    # Shuffled labels: the training loss ends at 0.88 of chance, the
    # validation loss never below 0.98 of it, and rises only 9% (< 10%).
    findings = diagnose(SHUFFLED_LABELS, None, None, resolve_thresholds(), chance_loss=CHANCE)
    assert [f.kind for f in findings] == ["overfitting"]
    assert findings[0].evidence == {"chance_loss": CHANCE, "best_val_loss": 2.2649,
                                    "last_val_loss": 2.4719, "last_loss": 2.0375}
    assert findings[0].epoch == 9  # the first epoch under 0.9 of chance
    assert "labels match the inputs" in findings[0].advice
    # Without a chance level (the starting loss as reference) it is missed.
    assert diagnose(SHUFFLED_LABELS, None, None, resolve_thresholds(), initial_loss=2.4) == []
    # A stricter margin (validation never 1% below chance) misses it too.
    assert diagnose(SHUFFLED_LABELS, None, None, resolve_thresholds({"chance_margin": 0.01}),
                    chance_loss=CHANCE) == []


def test_validation_loss_at_chance_under_heavy_dropout_is_underfitting():
    # Dropout 0.9: the training loss falls from 2.9x chance and stays above
    # it, the validation loss stays at chance (no gap rule, no plateau).
    findings = diagnose(DROPOUT_0_9, None, None, resolve_thresholds(), chance_loss=CHANCE)
    assert [f.kind for f in findings] == ["underfitting"]
    assert findings[0].evidence["best_val_loss"] == 2.2631
    assert findings[0].evidence["last_loss"] == 2.5405
    assert "dropout rate above 0.5" in findings[0].advice
    assert diagnose(DROPOUT_0_9, None, None, resolve_thresholds(), initial_loss=6.9) == []
    # Noisy labels that still let the model learn: validation at 0.33 of chance.
    assert diagnose(HALF_THE_LABELS_RANDOM, None, None, resolve_thresholds(), chance_loss=CHANCE) == []
    # A model that learned only the label prior: once its validation loss
    # stops falling above chance, it is underfitting ...
    prior_entropy = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    settled = pd.DataFrame({
        "loss": [0.8865, 0.4071, 0.3516, 0.3367, 0.3289, 0.3241, 0.3201, 0.3165],
        "val_loss": [0.4919, 0.3915, 0.3807, 0.3724, 0.3669, 0.3662, 0.3665, 0.3663]})
    found = diagnose(settled, None, None, resolve_thresholds(), chance_loss=prior_entropy)
    assert [f.kind for f in found] == ["underfitting"]
    # ... but not while it still falls by more than 2% of chance per window.
    creeping = settled.assign(val_loss=[0.4919, 0.3915, 0.3807, 0.3724, 0.3669, 0.3632, 0.3607, 0.3592])
    found = diagnose(creeping, None, None, resolve_thresholds(), chance_loss=prior_entropy)
    assert "underfitting" not in [f.kind for f in found]


def test_a_validation_loss_still_falling_near_chance_is_no_verdict():
    # Adam 1e-4 on digits (measured): validation falls every epoch, across
    # chance; the same run reaches 0.84 validation accuracy by epoch 40.
    slow = pd.DataFrame({"loss": [2.40, 2.37, 2.34, 2.31, 2.28],
                         "val_loss": [2.349, 2.332, 2.315, 2.297, 2.279]})
    kinds = [f.kind for f in diagnose(slow, None, None, resolve_thresholds(), chance_loss=CHANCE)]
    assert "underfitting" not in kinds
    # A validation set with another label prior (balanced, against a 90/10
    # training prior of 0.325): its loss stays above that chance but falls
    # every epoch while the training loss falls below it. No memorization.
    balanced = pd.DataFrame({"loss": [0.40, 0.31, 0.27, 0.24, 0.22, 0.20],
                             "val_loss": [1.30, 1.24, 1.19, 1.14, 1.10, 1.06]})
    found = diagnose(balanced, None, None, resolve_thresholds(), chance_loss=0.325)
    assert "overfitting" not in [f.kind for f in found]


def test_a_slow_but_steady_fall_is_no_plateau():
    # Digits CNN with dropout 0.3, plain SGD at 0.05, batch 64 (measured):
    # under 0.3% of chance an epoch, but every epoch and faster and faster.
    slow = pd.DataFrame({
        "loss": _floats("2.3076 2.3028 2.3029 2.2995 2.2947 2.2969 2.2951 2.2938 2.2929 2.2886 "
                        "2.2890 2.2876 2.2843 2.2860 2.2797 2.2794 2.2737 2.2730 2.2679 2.2692 "
                        "2.2674 2.2624 2.2573 2.2575 2.2555 2.2480 2.2427 2.2379 2.2352 2.2360 "
                        "2.2291 2.2280 2.2294 2.2220 2.2187 2.2026"),
        "val_loss": _floats("2.3051 2.3025 2.3005 2.2986 2.2969 2.2950 2.2935 2.2923 2.2902 2.2886 "
                            "2.2869 2.2848 2.2826 2.2808 2.2787 2.2765 2.2738 2.2712 2.2684 2.2654 "
                            "2.2625 2.2592 2.2565 2.2528 2.2487 2.2450 2.2403 2.2365 2.2323 2.2281 "
                            "2.2231 2.2177 2.2127 2.2066 2.2009 2.1951")})
    t = resolve_thresholds()
    (found,) = diagnose(slow, None, None, t, chance_loss=CHANCE, initial_loss=2.3082)
    assert (found.kind, found.epoch) == ("needs_more_training", 33)
    assert found.evidence["curve"] == "val_loss" and found.evidence["falling_epochs"] == 35
    assert found.evidence["pace_per_epoch"] > 2 * found.evidence["pace_per_epoch_before"]
    assert "use momentum" in found.advice
    # One epoch up in the last 6 makes it a plateau again ...
    bumped = slow.copy()
    bumped.loc[32, "val_loss"] = 2.2200
    assert [f.kind for f in diagnose(bumped, None, None, t, chance_loss=CHANCE)] == ["underfitting"]
    # ... and so does a fall that slows down toward a floor: a one-unit
    # bottleneck under Adam 0.05 (measured) ends at 0.09 of its pace before.
    bottleneck = pd.DataFrame({
        "loss": _floats("2.1851 1.8969 1.7661 1.6933 1.6521 1.6216 1.5972 1.5776 1.5613 1.5477 "
                        "1.5365 1.5271 1.5193 1.5127 1.5072"),
        "val_loss": _floats("1.9954 1.7903 1.7183 1.6688 1.6319 1.6047 1.5843 1.5682 1.5555 1.5454 "
                            "1.5373 1.5310 1.5262 1.5225 1.5197")})
    assert [f.kind for f in diagnose(bottleneck, None, None, t, chance_loss=CHANCE)] == ["underfitting"]


def test_a_loss_below_its_floor_is_invalid_not_progress():
    # Binary cross-entropy on labels {0, 2} (breast cancer, measured).
    curves = pd.DataFrame({"loss": [-0.6802, -2.7627, -4.3741, -6.1114, -7.8506, -9.5605],
                           "val_loss": [-1.8605, -3.3198, -4.9951, -6.7329, -8.4472, -10.1248]})
    binary = math.log(2)
    found = diagnose(curves, None, None, resolve_thresholds(), chance_loss=binary, loss_floor=0.0)
    assert [f.kind for f in found] == ["invalid_loss"]
    assert found[0].epoch == 0
    assert found[0].evidence == {"curve": "loss", "first_loss_below": -0.6802,
                                 "lowest_loss": -9.5605, "loss_floor": 0.0}
    assert "binary cross-entropy takes labels in [0, 1]" in found[0].advice
    # The old reading: both curves "still improving".
    assert [f.kind for f in diagnose(curves, None, None, resolve_thresholds(), chance_loss=binary)] \
        == ["needs_more_training"]
    # Seen from the first epoch on (no 4 epochs needed); within 1% of the
    # reference below 0 is rounding, not a finding.
    assert [f.kind for f in diagnose(curves.iloc[:1], None, None, resolve_thresholds(),
                                     chance_loss=binary, loss_floor=0.0)] == ["invalid_loss"]
    rounding = pd.DataFrame({"loss": [0.3, 0.1, 0.02, 0.001, -0.006]})
    assert diagnose(rounding, None, None, resolve_thresholds(), chance_loss=binary, loss_floor=0.0) == []
    # Such a curve confirms no layer symptom: without a chance level (a
    # subclassed model) the reference is the starting loss, here below 0,
    # which would count as no progress and confirm the dead units.
    dead = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.9, lambda i: np.nan))
    found = diagnose(curves, _gradients({}), _activations(dead), resolve_thresholds(),
                     initial_loss=-0.5, loss_floor=0.0)
    assert [f.kind for f in found] == ["invalid_loss"]


def _floats(text):
    return [float(value) for value in text.split()]


# Balanced binary labels, binary cross-entropy with label_smoothing=0.3 (the
# study's B7, measured): 0.95 validation accuracy; the loss settles at 0.478,
# 0.055 above the entropy of the smoothed targets (0.15 and 0.85).
SMOOTHED_BINARY = pd.DataFrame({
    "loss": _floats("0.700 0.547 0.517 0.506 0.499 0.495 0.493 0.490 0.489 0.487 "
                    "0.486 0.485 0.483 0.482 0.481 0.481 0.480 0.479 0.478 0.478"),
    "val_loss": _floats("0.578 0.528 0.513 0.506 0.501 0.498 0.496 0.494 0.492 0.491 "
                        "0.490 0.489 0.488 0.487 0.487 0.486 0.485 0.485 0.484 0.484")})
SMOOTHING_FLOOR = -(0.15 * math.log(0.15) + 0.85 * math.log(0.85))


def test_label_smoothing_progress_is_measured_down_to_its_floor():
    binary, t = math.log(2), resolve_thresholds()
    assert SMOOTHING_FLOOR == pytest.approx(0.422709, abs=1e-6)
    assert diagnose(SMOOTHED_BINARY, None, None, t, chance_loss=binary,
                    perfect_loss=SMOOTHING_FLOOR) == []
    # Measured down to 0, 0.478 is 69% of chance: the old reading.
    old = diagnose(SMOOTHED_BINARY, None, None, t, chance_loss=binary)
    assert [f.kind for f in old] == ["underfitting"] and old[0].evidence["last_loss"] == 0.478
    # The layer rules read the same progress: 80% of the way from chance to
    # the floor, not 31%, confirms no dead units.
    assert _curve_rules.progress(SMOOTHED_BINARY, binary, SMOOTHING_FLOOR) == pytest.approx(0.796, abs=1e-3)
    dead = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.9, lambda i: np.nan))
    found = diagnose(SMOOTHED_BINARY, _gradients({}), _activations(dead), t, chance_loss=binary,
                     perfect_loss=SMOOTHING_FLOOR)
    assert found == []
    assert [f.kind for f in diagnose(SMOOTHED_BINARY, _gradients({}), _activations(dead), t,
                                     chance_loss=binary)] == ["dead_relu"]
    # A plateau 0.2 above the floor (74% of the way up to chance) still is underfitting.
    stuck = pd.DataFrame({"loss": [0.70, 0.66, 0.64, 0.63, 0.625, 0.624, 0.624, 0.623],
                          "val_loss": [0.69, 0.66, 0.645, 0.635, 0.63, 0.629, 0.629, 0.628]})
    found = diagnose(stuck, None, None, t, chance_loss=binary, perfect_loss=SMOOTHING_FLOOR)
    assert [f.kind for f in found] == ["underfitting"]
    assert found[0].evidence["last_loss"] == 0.623
    assert found[0].evidence["perfect_loss"] == pytest.approx(0.422709, abs=1e-6)
    # A floor at or above the reference (a weighted loss) is not used.
    assert _curve_rules.progress(SMOOTHED_BINARY, 0.4, 0.45) == pytest.approx(1 - 0.478 / 0.4)


# Wine (3 classes, chance 1.086), two Dropout(0.9) layers (the study's E3b,
# measured): the training loss, with dropout on, jumps between 1.5 and 3.6;
# the validation loss falls smoothly, then stalls at 0.77 of chance.
WINE_DROPOUT_0_9 = pd.DataFrame({
    "loss": _floats("2.619 3.164 2.199 3.566 3.253 2.583 2.687 2.312 2.048 2.710 2.424 2.346 2.764 "
                    "2.251 2.688 2.396 2.110 2.330 2.216 2.184 2.434 1.488 1.807 1.993 1.647 1.711 "
                    "2.223 2.061 1.730 1.680"),
    "val_loss": _floats("1.007 0.991 0.977 0.959 0.943 0.935 0.929 0.923 0.917 0.913 0.907 0.903 "
                        "0.897 0.889 0.884 0.880 0.874 0.868 0.864 0.859 0.854 0.853 0.852 0.852 "
                        "0.849 0.847 0.844 0.842 0.839 0.839")})
WINE_CHANCE = 1.086038443640683


def test_a_training_loss_noisy_under_heavy_dropout_is_no_oscillation():
    t = resolve_thresholds()
    found = diagnose(WINE_DROPOUT_0_9, None, None, t, chance_loss=WINE_CHANCE)
    assert [f.kind for f in found] == ["underfitting"]
    # Read on the validation loss: the training loss is 2x it (dropout).
    assert found[0].evidence["last_loss"] == 1.68 and found[0].evidence["last_val_loss"] == 0.839
    assert found[0].evidence["window_val_drop"] == pytest.approx(0.005, abs=1e-9)
    assert found[0].epoch == 27
    assert "dropout rate above 0.5" in found[0].advice
    # Without validation the jumps cannot be told from too big steps.
    alone = diagnose(WINE_DROPOUT_0_9[["loss"]], None, None, t, chance_loss=WINE_CHANCE)
    assert [f.kind for f in alone] == ["oscillating_loss"]
    assert alone[0].evidence["curve"] == "loss" and alone[0].evidence["rising_epochs"] == 12
    # Batch size 1 with momentum 0.99 (the zoo's iris case): both curves jump.
    momentum = pd.DataFrame({
        "loss": _floats("0.326 0.305 0.547 1.248 1.549 3.535 7.910 2.509 54.227 139.252 320.042 25.517"),
        "val_loss": _floats("0.157 0.140 0.548 0.296 0.641 0.677 7.945 3.618 1.085 2273.352 54.682 77.203")})
    found = diagnose(momentum, None, None, t, chance_loss=math.log(3))
    assert [f.kind for f in found] == ["oscillating_loss"] and found[0].evidence["curve"] == "loss"


# An LSTM(32) on digit rows (8 steps of 8 pixels) with RMSprop at 0.3, 300x
# its default (measured): the validation loss jumps by up to 0.6 every few
# epochs; the training loss, a mean over each epoch, hides most jumps.
LSTM_RMSPROP_0_3 = pd.DataFrame({
    "loss": _floats("4.134 1.760 1.211 1.100 1.008 0.844 0.792 0.689 0.713 0.576 0.507 0.523 "
                    "0.481 0.464 0.526 0.516 0.634 0.552 0.506 0.440"),
    "val_loss": _floats("1.877 1.329 1.931 0.929 0.978 0.928 0.956 1.066 1.515 0.932 0.631 0.597 "
                        "1.062 0.756 0.932 0.746 0.560 0.861 0.661 1.085")})
# Shuffled breast-cancer labels (the study's E1, measured): the validation
# loss jumps too, but it climbs far beyond its jumps (to 2.2x chance).
SHUFFLED_CANCER = pd.DataFrame({
    "loss": _floats("0.725 0.664 0.634 0.613 0.588 0.566 0.539 0.508 0.476 0.448 0.420 0.380 0.354 "
                    "0.327 0.301 0.285 0.244 0.279 0.244 0.201 0.157 0.149 0.153 0.174 0.333 0.309 "
                    "0.159 0.119 0.140 0.110"),
    "val_loss": _floats("0.732 0.673 0.683 0.685 0.701 0.713 0.725 0.755 0.790 0.841 0.848 0.934 "
                        "0.934 0.958 0.958 0.992 1.070 1.104 1.064 1.178 1.127 1.161 1.517 2.093 "
                        "1.662 1.378 1.321 1.443 1.548 1.463")})


def test_a_validation_loss_jumping_both_ways_is_oscillation_not_overfitting():
    t = resolve_thresholds()
    found = diagnose(LSTM_RMSPROP_0_3, None, None, t, chance_loss=CHANCE)
    assert [f.kind for f in found] == ["oscillating_loss"]
    assert found[0].evidence["curve"] == "val_loss"
    assert (found[0].evidence["rising_epochs"], found[0].evidence["falling_epochs"]) == (6, 8)
    assert found[0].evidence["largest_rise"] == pytest.approx(0.602, abs=1e-9)
    assert found[0].epoch == 2
    # With the big updates measured there, the learning rate is named.
    found = diagnose(LSTM_RMSPROP_0_3, _gradients({}, update_ratio=0.06), None, t, chance_loss=CHANCE)
    assert [f.kind for f in found] == ["learning_rate_too_high", "oscillating_loss"]
    # Read by the overfitting rule alone (the old reading): the validation
    # loss "rose" from its best, 0.560, three epochs before the end, to 1.085.
    no_oscillation = resolve_thresholds({"oscillation_fraction": 1.0})
    found = diagnose(LSTM_RMSPROP_0_3, None, None, no_oscillation, chance_loss=CHANCE)
    assert [f.kind for f in found] == ["overfitting"] and found[0].evidence["best_val_loss"] == 0.56
    # A validation loss that jumps while it climbs is overfitting.
    found = diagnose(SHUFFLED_CANCER, None, None, t, chance_loss=0.6603163491952275)
    assert [f.kind for f in found] == ["overfitting"]
    assert found[0].evidence["best_val_loss"] == 0.673


def _per_layer(gradients, update_ratio, weight_norm=None):
    """`gradients` with each layer's update ratio (and weight norm) set."""
    gradients = gradients.assign(update_ratio=gradients["layer"].map(update_ratio))
    if weight_norm is not None:
        gradients["weight_norm"] = gradients["layer"].map(weight_norm)
    return gradients


# Residual MLP with Adam at 1e-6 (the study's BF3, measured): the loss crawls
# 0.004 an epoch, enough to clear `loss_not_decreasing`, too little for more.
CRAWL = pd.DataFrame({
    "loss": _floats("2.4921 2.4876 2.4833 2.4790 2.4747 2.4705 2.4664 2.4623 2.4583 2.4543"),
    "val_loss": _floats("2.4442 2.4399 2.4356 2.4314 2.4273 2.4232 2.4191 2.4152 2.4112 2.4073")})
# BatchNormalization CNN with SGD at 1e-6 and momentum 0.9 (the study's AF4).
CRAWL_SGD = pd.DataFrame({
    "loss": _floats("2.4755 2.4671 2.4584 2.4499 2.4415 2.4333 2.4252 2.4173 2.4095 2.4018"),
    "val_loss": _floats("2.3004 2.3177 2.3440 2.3689 2.3871 2.3967 2.3989 2.3972 2.3917 2.3835")})


def test_a_crawl_read_as_underfitting_is_a_learning_rate_too_low():
    t, start = resolve_thresholds(), {"chance_loss": CHANCE, "initial_loss": 2.5108}
    # Falling every epoch at 0.94 of its pace before: slow, no plateau.
    (slow,) = diagnose(CRAWL, None, None, t, **start)
    assert (slow.kind, slow.evidence["falling_epochs"]) == ("needs_more_training", 9)
    found = diagnose(CRAWL, _gradients({}, update_ratio=4e-6), None, t, **start)
    assert [f.kind for f in found] == ["learning_rate_too_low"]  # the slow curve is its consequence
    assert found[0].evidence["curve"] == ["slow_progress"]
    assert found[0].evidence["model_update_ratio"] == pytest.approx(4e-6)
    assert "Raise the learning rate" in found[0].advice
    # AF4's numbers: the first (small) layer moves 1.1e-5 of its weights a
    # step, above `update_ratio_low`; the model as a whole 3.1e-6.
    af4 = _per_layer(_gradients({}), {"dense": 1.1e-5, "dense_1": 2.9e-6, "dense_2": 2.4e-6},
                     {"dense": 1.28, "dense_1": 10.64, "dense_2": 4.18})
    found = diagnose(CRAWL_SGD, af4, None, t, chance_loss=CHANCE, initial_loss=2.4751)
    assert [f.kind for f in found] == ["learning_rate_too_low"]
    assert found[0].evidence["curve"] == ["underfitting"]  # its validation loss rose first
    assert found[0].evidence["largest_median_update_ratio"] == pytest.approx(1.1e-5)
    assert found[0].evidence["model_update_ratio"] == pytest.approx(3.07e-6, rel=0.01)
    # Normal steps on the same curve: only slow, not the learning rate.
    assert [f.kind for f in diagnose(CRAWL, _gradients({}), None, t, **start)] == ["needs_more_training"]
    # Dead units make the updates tiny too: then they are the cause.
    dead = dict(HEALTHY_RELU, dense_1=("relu", lambda i: 0.9, lambda i: np.nan))
    found = diagnose(CRAWL, _gradients({}, update_ratio=4e-6), _activations(dead), t, **start)
    assert [(f.kind, f.layer) for f in found] == [("dead_relu", "dense_1")]


def test_a_schedule_that_decays_the_rate_to_nothing():
    # LSTM, Adam with ExponentialDecay(3e-3, 20 steps, 0.1) (the study's D2):
    # the updates are 1e-3 of the weights in the first epoch, then 0.
    curves = pd.DataFrame({"loss": [2.2771] + [2.263] * 11, "val_loss": [2.2592] + [2.2589] * 11})
    gradients = _gradients({})
    gradients["update_ratio"] = np.where(gradients["epoch"] == 0, 1.2e-3, 0.0)
    found = diagnose(curves, gradients, None, resolve_thresholds(), chance_loss=CHANCE,
                     initial_loss=2.3102)
    assert [f.kind for f in found] == ["learning_rate_too_low"]
    assert found[0].evidence["model_update_ratio"] == 0.0
    assert found[0].evidence["first_epoch_model_update_ratio"] == pytest.approx(1.2e-3)
    assert "schedule decays too fast" in found[0].advice


def test_zero_gradients_are_no_learning_rate_too_low():
    # ReLUs dead inside a user-defined layer (keras.ops.relu in `call`, the
    # study's BF4, measured): every kernel gradient and update exactly 0.
    zero = {layer: (lambda i: 0.0) for layer in LAYERS}
    found = diagnose(_curves("flat"), _gradients(zero, update_ratio=0.0), None, resolve_thresholds(),
                     chance_loss=CHANCE)
    assert [(f.kind, f.layer) for f in found] == [("vanishing_gradient", "dense")]
    assert found[0].evidence["grad_norm"] == 0.0
    assert found[0].evidence["layers_without_gradient"] == list(LAYERS)
    assert "stop_gradient" in found[0].advice and "Raise" not in found[0].advice
    # Zero at the logged steps only (batches of one predicted right with
    # certainty), with gradients between them: no finding of its own.
    between = _gradients(zero, update_ratio=1e-3).assign(grad_norm_max=0.3)
    found = diagnose(_curves("flat"), between, None, resolve_thresholds(), chance_loss=CHANCE)
    assert [f.kind for f in found] == ["loss_not_decreasing"]


def test_zero_gradients_behind_negative_outputs_are_dead_relus():
    # The same run as the activation monitor sees it: the Dense inside the
    # first block outputs at most -8.2 (bias -10), the one after it only 0.
    zero = _gradients({layer: (lambda i: 0.0) for layer in LAYERS}, update_ratio=0.0)
    linear = (lambda i: np.nan, lambda i: np.nan)
    activations = _activations({"dense": ("linear", *linear), "dense_1": ("linear", *linear),
                                "dense_2": ("softmax", *linear)})
    highest = {"dense": -8.2, "dense_1": 0.0, "dense_2": 0.1}
    activations["max"] = activations["layer"].map(highest)
    found = diagnose(_curves("flat"), zero, activations, resolve_thresholds(), chance_loss=CHANCE)
    assert [(f.kind, f.layer) for f in found] == [("dead_relu", "dense")]
    assert found[0].evidence["max_output"] == -8.2
    assert found[0].evidence["layers_without_gradient"] == list(LAYERS)
    assert "keras.ops.relu" in found[0].advice
    # Dead units in the second block: the first gets no gradient because of them.
    activations["max"] = activations["layer"].map(dict(highest, dense=1.5, dense_1=-3.0))
    found = diagnose(_curves("flat"), zero, activations, resolve_thresholds(), chance_loss=CHANCE)
    assert [(f.kind, f.layer) for f in found][0] == ("dead_relu", "dense_1")
    # Outputs of both signs: no dead units to be seen, the path may be cut;
    # outputs of exactly 0: inputs of 0, from units dead before the layer.
    for top in (1.5, 0.0):
        activations["max"] = top
        found = diagnose(_curves("flat"), zero, activations, resolve_thresholds(), chance_loss=CHANCE)
        assert [(f.kind, f.layer) for f in found][0] == ("vanishing_gradient", "dense")


# LSTM(32) with Adam at 1.0 and GRU(32) with Adam at 0.1 on digit rows (the
# study's CF1 and CF1b, measured): the validation loss jumps both ways in 4
# and 5 of 14 epochs, under the 30% `oscillating_loss` needs.
LSTM_ADAM_1 = pd.DataFrame({
    "loss": _floats("4.1282 2.6411 2.3457 2.3267 2.2873 2.0972 2.3470 2.1606 2.0497 2.0458 2.1631 "
                    "2.1106 2.0653 2.1606 2.2158"),
    "val_loss": _floats("2.8913 2.3412 2.3151 2.0638 2.2396 1.8446 1.9815 2.0562 2.1125 2.1531 "
                        "2.4434 2.5011 2.1583 2.3164 2.1416")})
GRU_ADAM_0_1 = pd.DataFrame({
    "loss": _floats("1.2268 0.9175 1.2761 1.1800 1.0225 1.0010 0.9660 0.6064 0.6390 0.7325 0.6371 "
                    "0.4397 0.4583 0.4747 0.5573"),
    "val_loss": _floats("0.6535 1.8214 1.0268 1.0524 0.9072 1.8388 0.7305 0.5502 0.5242 0.9301 "
                        "0.5029 0.5114 0.4556 0.3879 0.5167")})
# A healthy CNN of user-defined Conv-BN-ReLU blocks, RMSprop 1e-3 (the
# study's B4): a layer's median update ratio is 1.3e-2 and the validation
# loss rises twice (the BatchNormalization lag), then falls.
BATCH_NORM_LAG = pd.DataFrame({
    "loss": _floats("1.9874 1.4731 1.1665 0.9459 0.7728 0.6338 0.5231 0.4363 0.3680 0.3141 0.2709 "
                    "0.2359 0.2071 0.1833 0.1631 0.1457 0.1308 0.1177 0.1062 0.0962"),
    "val_loss": _floats("2.2814 2.2882 2.3563 2.5002 2.6619 2.7500 2.6610 2.3375 1.8283 1.3158 "
                        "0.8774 0.5794 0.4102 0.2891 0.2299 0.1841 0.1546 0.1379 0.1225 0.1142")})


def test_a_jagged_validation_loss_with_big_updates_is_a_learning_rate_too_high():
    t = resolve_thresholds()
    assert [f.kind for f in diagnose(LSTM_ADAM_1, None, None, t, chance_loss=CHANCE)] == ["underfitting"]
    assert diagnose(GRU_ADAM_0_1, None, None, t, chance_loss=CHANCE) == []
    found = diagnose(LSTM_ADAM_1, _gradients({}, update_ratio=1.2e-2), None, t, chance_loss=CHANCE)
    assert [f.kind for f in found] == ["learning_rate_too_high"]  # the underfitting is its consequence
    assert found[0].evidence["curve"] == ["validation loss jumps up 4 and down 5 times in 15 epochs"]
    found = diagnose(GRU_ADAM_0_1, _gradients({}, update_ratio=1.5e-2), None, t, chance_loss=CHANCE)
    assert [f.kind for f in found] == ["learning_rate_too_high"]
    # The same curves with the updates of a healthy run: no change.
    assert diagnose(GRU_ADAM_0_1, _gradients({}, update_ratio=5e-3), None, t, chance_loss=CHANCE) == []
    # Big updates and a validation loss that jumps up only twice in 19 epochs.
    assert diagnose(BATCH_NORM_LAG, _gradients({}, update_ratio=1.3e-2), None, t, chance_loss=CHANCE) == []


# BatchNormalization CNN, Adam 1e-2, batches of 256 (the study's A7,
# measured): `model.evaluate` on the training rows gives 5.83, the training
# mode 0.008: the moving statistics are off, nothing is memorized.
BATCH_NORM_STATISTICS_OFF = pd.DataFrame({
    "loss": _floats("2.0639 1.4591 1.0792 0.7789 0.5521 0.3914 0.2853 0.2149 0.1678 0.1354 0.1115 "
                    "0.0935 0.0802 0.0690 0.0601 0.0528 0.0468 0.0416 0.0373 0.0336 0.0304 0.0277 "
                    "0.0254 0.0232 0.0214 0.0198 0.0184 0.0170 0.0160 0.0149 0.0139 0.0131 0.0123 "
                    "0.0116 0.0110 0.0104 0.0098 0.0093 0.0089 0.0084"),
    "val_loss": _floats("2.2728 2.2917 2.2918 2.2862 2.3129 2.3648 2.4409 2.5607 2.7938 2.9269 3.1958 "
                        "3.3718 3.5953 3.8000 4.0560 4.2421 4.4381 4.6259 4.8016 4.9247 5.0590 5.2572 "
                        "5.3308 5.4477 5.5882 5.6537 5.6752 5.7431 5.8343 5.7934 5.8717 5.8561 5.8495 "
                        "5.8190 5.8229 5.7334 5.6882 5.6696 5.5548 5.4969")})
# Residual BatchNormalization CNN, Adam at 1.0 (the study's BF2, measured):
# the validation loss falls from 2600x chance to 10x, the training loss to 0.44.
BATCH_NORM_THROWN_OFF = pd.DataFrame({
    "loss": _floats("3.4392 2.0549 1.5323 1.2915 1.1214 0.8427 0.7385 0.7278 0.5577 0.5125 0.5036 0.4397"),
    "val_loss": _floats("6095.4556 1686.5172 320.4417 428.7313 366.0403 156.2270 163.1174 84.9788 "
                        "44.3982 27.2595 28.9177 24.2064")})


def test_batch_norm_models_get_the_inference_statistics_advice_first():
    t = resolve_thresholds()
    found = diagnose(BATCH_NORM_STATISTICS_OFF, None, None, t, chance_loss=CHANCE, batch_normalized=True)
    assert [f.kind for f in found] == ["overfitting"]
    assert found[0].advice.startswith("Evaluate the training data in inference mode")
    assert "`momentum`" in found[0].advice and "labels match the inputs" in found[0].advice
    plain = diagnose(BATCH_NORM_STATISTICS_OFF, None, None, t, chance_loss=CHANCE)
    assert plain[0].advice.startswith("Check that the labels match the inputs")


def test_a_validation_loss_thrown_far_above_chance_is_no_progress():
    t = resolve_thresholds()
    found = diagnose(BATCH_NORM_THROWN_OFF, None, None, t, chance_loss=CHANCE, initial_loss=4.454)
    assert found == []  # was needs_more_training: "both losses are still going down"
    relaxed = resolve_thresholds({"high_loss_factor": 1e4})
    assert [f.kind for f in diagnose(BATCH_NORM_THROWN_OFF, None, None, relaxed, chance_loss=CHANCE,
                                     initial_loss=4.454)] == ["needs_more_training"]
    # With its updates (1.9e-2 of the weights) and a jagged validation loss:
    # the learning rate.
    found = diagnose(BATCH_NORM_THROWN_OFF, _gradients({}, update_ratio=1.9e-2), None, t,
                     chance_loss=CHANCE, initial_loss=4.454)
    assert [f.kind for f in found] == ["learning_rate_too_high"]
