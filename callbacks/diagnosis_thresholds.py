"""The thresholds of the training doctor's rules, each with its reason.

Loss changes are measured against the reference loss: the chance-level loss
when the loss has one (ln C for a C-class softmax cross-entropy, ln 2 for a
binary one; with `TrainingDoctor(y=...)` the entropy of the label prior, or
the targets' variance for a mean squared error), else the loss at the start
of training. So "2% of the reference" means the same on every data set and
near-zero losses do not look noisy.
"""

import math
import numbers

#: name -> (value, reason). `TrainingDoctor(thresholds={...})` and
#: `diagnose_curves(..., thresholds={...})` override single entries.
DIAGNOSIS_THRESHOLDS = {
    # Windows: evidence over a window, never one batch or one epoch.
    "min_epochs": (4, "curve rules need at least 4 epochs; shorter runs get no curve finding"),
    "curve_window": (3, "'still improving' and 'plateau' look at the last 3 epochs"),
    "layer_window": (0.5, "layer symptoms are judged over the last half of the logged steps"),
    "min_layer_rows": (3, "a layer symptom needs at least 3 logged steps in its window"),
    "persistence": (0.8, "a layer symptom must hold at 80% of the window's logged steps"),
    # Curve rules (fractions of the reference loss).
    "not_decreasing_drop": (0.02, "the best training loss is less than 2% below the start ..."),
    "not_decreasing_start": (0.25, "... unless the start is below 25% of the reference: a fit that starts far below chance (a trained model fitted again) has learned already, and a small fall is convergence, not a stall (a digits MLP fitted 10 more epochs: 0.070 -> 0.059, 3% of ln 10)"),
    "diverging_factor": (1.5, "the last training loss is 1.5x its best ..."),
    "diverging_rise": (0.1, "... and 10% of the reference above it (near-zero noise is no divergence); an epoch as far above the best before it, after which the loss falls back, is a spike (oscillating_loss) if the validation loss jumps (oscillation_rise) too: study 5's M05, 0.028 -> 0.495 (17.7x, 17% of the start) where healthy runs rise at most 5.5% of chance (2.8x)"),
    "oscillation_rise": (0.05, "an epoch whose training (or validation) loss rises by 5% of the reference is a jump ..."),
    "oscillation_fraction": (0.3, "... jumps up in 30% of the epochs (at least 2) and down at least twice: oscillation (training jumps need 2 validation jumps up too: dropout makes the training loss noisy)"),
    "overfit_patience": (3, "validation loss was best at least 3 epochs before the end ..."),
    "overfit_rise": (0.1, "... rose 10% above its best ..."),
    "overfit_min_rise": (0.02, "... by at least 2% of the reference, while training loss kept falling"),
    "plateau_drop": (0.02, "the window's best training loss is < 2% of the reference below the best before"),
    "underfit_level": (0.5, "a plateau above half the reference loss is underfitting ..."),
    "underfit_gap": (0.2, "... unless validation loss ends over 20% above training loss; read on validation loss when it ends over 20% below (dropout)"),
    "steady_epochs": (6, "a loss (validation loss if validated) that fell in each of the last 6 epochs ..."),
    "steady_pace": (0.75, "... and in the last curve_window epochs by 0.75 or more of its mean per-epoch drop before is no plateau: 'needs more training' (a slow start), not underfitting (a 1-unit bottleneck that slows toward its floor: 0.09; plain SGD 0.05 on a digits CNN: 1.4 and more)"),
    "improving_drop": (0.02, "both losses' window bests are > 2% of the reference below the bests before"),
    "floor_tolerance": (0.01, "a loss more than 1% of the reference below its floor (0 for a cross-entropy) is impossible with valid labels"),
    "output_range_fraction": (0.1, "with `y`: over 10% of a regression output's targets outside its activation's range (sigmoid [0, 1], tanh [-1, 1], relu [0, inf)) is a loss_output_mismatch; a few stray targets are not (standardized targets under a sigmoid: 66% outside, MSE stalls at 0.56 of their variance)"),
    # Needs a known chance level: validation loss at chance all the run.
    "chance_margin": (0.05, "validation loss never 5% below chance (4+ validated epochs): nothing learned carries over ..."),
    "memorize_drop": (0.1, "... training loss ends 10% or more below chance: memorizing (overfitting); else, validation stalled: underfitting"),
    "accuracy_above_chance": (0.2, "... but a logged validation accuracy (mean of the last curve_window epochs) 20% of the way from chance accuracy (the most frequent class of `y`; 1/C for a C-unit softmax without `y`) to 1 carries over: ordinary overfitting advice, not memorization's (study 6's L10, over-confident errors: 0.74 against 0.5, 48% of the way; random labels on digits: 0.09 against 0.11, shifted validation labels: 0.0)"),
    # Layer rules.
    "vanishing_ratio": (1e-3, "layer/output-layer gradient-norm ratio below 1e-3 (AutoTrainer)"),
    "exploding_growth": (100.0, "gradient norm 100x its first logged value, on an unstable curve"),
    "dead_fraction": (0.5, "over half a ReLU layer's units dead (the literature uses 50-70%)"),
    "saturated_fraction": (0.5, "over half a sigmoid/tanh layer's units saturated (DeepDiagnosis)"),
    # Confirmation by the training curve: progress = 1 - last loss / reference.
    "impaired_progress": (0.5, "gradient/dead-unit symptoms count only if the loss fell < 50%"),
    "saturation_progress": (0.9, "saturation counts only if the loss fell < 90%: it slows, not stops"),
    "killed_progress": (0.9, "ReLU layers killed by big steps (see update_ratio_high) count if the loss fell < 90%, not 50%: the steps are evidence of their own, and the surviving units still learn, so killing slows learning rather than stops it (the recipes' autoencoder under Adam 0.1: first steps 0.63 of the weights, 66-81% of each ReLU layer dead from step 10, the loss stalls at 0.47 of the pixel variance where Adam 1e-3 reaches 0.21; no healthy run of studies 4-5 or the fault zoo has a layer over half dead)"),
    "update_ratio_low": (1e-5, "the whole model's median ||update||/||weights|| (all kernels one vector: the big layers weigh most) below 1e-5, on a stalled curve (not decreasing, underfitting): the learning rate crawls (healthy runs measured: 1.5e-4 or more)"),
    "update_travel_low": (1e-3, "on a slow but steady curve (slow_progress): the weights' path per epoch (model_update_ratio x steps per epoch) below 1e-3 of their norm: 100 epochs more move them 10% at most, the learning rate crawls (plain SGD 1e-4 on a wine MLP, loss 37% above chance after 30 epochs: 2.9e-4; healthy slow starts, plain SGD 0.05 on a digits CNN: 3.5e-3 to 3.1e-2; the 74 healthy runs of studies 4-5: 3.0e-3 or more)"),
    "update_ratio_high": (1e-2, "a layer's median ||update||/||weight|| above 1e-2 with an unstable curve, or up to the record where ReLU layers alive at the first record are dead (killed by the steps: plain SGD 5 on a digits CNN, 0.28; healthy SGD 0.5-1 on it, 0.03-0.06, loses no unit)"),
    "high_loss_factor": (10.0, "... or with an epoch's training loss 10x the reference (chance or start) or more; a validation loss that went 10x above it is no progress ('needs more training') while it ends above the reference"),
    "jagged_fraction": (0.2, "... or with a validation loss that jumps (oscillation_rise) up AND down in 20% of the validated epochs each (at least 2; healthy runs measured: up in 10% at most when a layer's ratio is that high)"),
    "zero_grad_norm": (1e-30, "a kernel gradient norm at or below 1e-30 is no gradient at all (float32 flushes smaller squares to 0): dead units or a cut backward path, not a small learning rate"),
    "weight_collapse": (0.1, "with L2/weight decay on and the loss fell < 50%: a kernel shrank below 10% of its first norm (the penalty outweighs the data)"),
    # Input scale, read from the first watched layer at the first record (`_input_scale_rules`).
    "input_scale": (30.0, "the first watched (non-tanh/sigmoid) layer's output RMS at the first record 30 or more: inputs far from standardized, which give about 1 under Glorot/He (unscaled_inputs, or 'standardize the inputs' first in the advice of what it brings about); regression targets given as `y` with an RMS of 30 or more: 'standardize the targets'. Measured at step 0: standardized or [0, 1] inputs 0.3-1.1; raw digits (0-16) 8.1, which trained as well as x/16 under SGD 0.05 and Adam (not flagged); raw breast-cancer features (to ~4000) 257 and digits plus 10 columns of 1000 292, which trained badly"),
    "input_scale_low": (0.012, "the first watched layer's output RMS at the first record divided by its kernel's gain (sqrt(fan_in * mean(kernel ** 2)): about the inputs' RMS, 0.7x it through a ReLU) 0.012 or less, when it reads the inputs as they are (no Embedding or normalization layer before it) and is not over half dead: inputs far smaller than standardized, 'standardize the inputs' first in the advice of the findings they bring about (no finding of their own). Measured at step 0: healthy standardized or [0, 1] inputs 0.27-0.86 (MLPs under He or Glorot, a first Conv2D of 32-256 filters under Glorot, whose raw RMS is only 0.036-0.096), one-hot rows of 100 and 1000 categories 0.074 and 0.022; inputs far too small: digits / 1600 (0-0.01) 0.0036-0.0049 and standardized wine and breast cancer / 100 0.0068-0.0071 (a stalled or crawling curve, dead units, units killed by Adam 1e-2's first steps); not flagged: digits / 160 0.036-0.046 (trains under Adam, crawls under plain SGD), first layers initialized far too small (N(0, 0.001^2), N(0, 0.003^2): 0.25-0.38, raw RMS 0.003-0.006)"),
}


def resolve_thresholds(overrides=None):
    """Returns `{name: value}` with `overrides` applied.

    Raises:
        ValueError: If `overrides` is not a dict, names no known threshold,
            or sets one to anything but a finite number.
    """
    values = {name: value for name, (value, _) in DIAGNOSIS_THRESHOLDS.items()}
    if overrides is not None and not isinstance(overrides, dict):
        raise ValueError(
            "`thresholds` must map threshold names to numbers. Expected a dict or None. "
            f"Received: thresholds={overrides!r}"
        )
    for name, value in (overrides or {}).items():
        if name not in values:
            raise ValueError(
                "Unknown diagnosis threshold. Expected one of "
                f"{sorted(values)}. Received: thresholds={{{name!r}: {value!r}}}"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(
                f"Invalid diagnosis threshold {name!r}: expected a finite number. "
                f"Received: thresholds={{{name!r}: {value!r}}}"
            )
        values[name] = value
    return values
