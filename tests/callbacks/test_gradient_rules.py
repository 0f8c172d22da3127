import math

import pandas as pd

from keras_recipes.callbacks._gradient_rules import gradient_findings

LAYERS = ["first", "middle", "last"]


def table(norms, maxima=None, non_finite=None, epochs=None):
    """One row per (step, layer) from per-step lists of per-layer numbers."""
    rows = []
    for step, values in enumerate(norms):
        for i, layer in enumerate(LAYERS):
            rows.append({
                "step": step * 10,
                "epoch": (epochs or [0] * len(norms))[step],
                "layer": layer,
                "grad_norm": values[i],
                "grad_norm_max": (maxima or norms)[step][i],
                "non_finite": (non_finite or [[0, 0, 0]] * len(norms))[step][i],
            })
    return pd.DataFrame(rows)


def test_healthy_numbers_give_no_finding():
    norms = [[0.5, 0.8, 1.0], [0.4, 0.6, 0.7], [0.3, 0.5, 0.6]]
    assert gradient_findings(table(norms)) == []


def test_vanishing_names_the_first_layer_below_the_ratio():
    norms = [[1e-6, 1e-5, 1.0], [2e-6, 1.2e-5, 0.9], [1e-6, 1.5e-5, 0.8]]
    (finding,) = gradient_findings(table(norms), vanishing_threshold=1e-3)
    assert finding.kind == "vanishing_gradient"
    assert finding.layer == "first"
    assert finding.step == 0
    assert finding.evidence["layers"] == ["first", "middle"]
    assert math.isclose(finding.evidence["ratio"], 1e-6 / 0.9, rel_tol=0.2)


def test_vanishing_needs_half_of_the_records():
    norms = [[1e-6, 0.5, 1.0], [0.4, 0.5, 1.0], [0.4, 0.5, 1.0]]
    assert gradient_findings(table(norms)) == []


def test_layers_without_any_gradient_are_vanishing():
    # ReLUs dead inside a user-defined layer: every kernel gradient exactly
    # 0, at the logged steps and between them. Nothing to compare with, and
    # no learning rate can help.
    zeros = [[0.0, 0.0, 0.0]] * 3
    (finding,) = gradient_findings(table(zeros))
    assert (finding.kind, finding.layer, finding.step) == ("vanishing_gradient", "first", 0)
    assert finding.evidence["grad_norm"] == 0.0 and finding.evidence["layers"] == LAYERS
    assert "stop_gradient" in finding.advice
    # Zero at the logged steps only (a batch of one predicted right with
    # certainty), with gradients between them: no finding.
    assert gradient_findings(table(zeros, maxima=[[0.2, 0.3, 0.5]] * 3)) == []


def test_exploding_compares_the_running_max_with_the_median_norm():
    norms = [[1.0, 1.0, 1.0], [2.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    maxima = [[1.0, 1.0, 1.0], [150.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    (finding,) = gradient_findings(table(norms, maxima), exploding_threshold=100.0)
    assert finding.kind == "exploding_gradient"
    assert (finding.layer, finding.step) == ("first", 10)
    assert finding.evidence["growth"] == 150.0
    assert gradient_findings(table(norms, maxima), exploding_threshold=200.0) == []


def test_exploding_absolute_limit():
    norms = [[2e6, 1e5, 1e5], [2e6, 1e5, 1e5]]
    (finding,) = gradient_findings(table(norms))
    assert (finding.kind, finding.layer, finding.step) == ("exploding_gradient", "first", 0)


def test_non_finite_names_the_last_affected_layer_at_the_first_step():
    norms = [[1.0, 1.0, 1.0], [float("nan"), float("nan"), 1.0], [float("nan")] * 3]
    bad = [[0, 0, 0], [5, 7, 0], [9, 9, 9]]
    findings = gradient_findings(table(norms, non_finite=bad, epochs=[0, 1, 1]))
    (finding,) = [f for f in findings if f.kind == "non_finite"]
    assert (finding.layer, finding.epoch, finding.step) == ("middle", 1, 10)
    assert finding.evidence == {"non_finite": 12, "layers": ["first", "middle"]}


def test_non_finite_loss_without_bad_gradients():
    norms = [[1.0, 1.0, 1.0]]
    (finding,) = gradient_findings(table(norms), loss_non_finite_at=(2, 17))
    assert (finding.kind, finding.layer, finding.epoch, finding.step) == ("non_finite", None, 2, 17)


def test_layers_not_compared_are_left_out_of_the_vanishing_rule():
    norms = [[1e-6, 0.5, 1.0], [2e-6, 0.6, 0.9], [1e-6, 0.5, 0.8]]
    assert [f.kind for f in gradient_findings(table(norms))] == ["vanishing_gradient"]
    assert gradient_findings(table(norms), not_compared=["first"]) == []


def test_normalization_layers_are_scale_layers():
    import keras

    from keras_recipes.callbacks import _layers

    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(3, name="dense"),
        keras.layers.BatchNormalization(name="bn"), keras.layers.LayerNormalization(name="ln"),
        keras.layers.Embedding(5, 2, name="embedding")])
    assert _layers.scale_layers(model) == ["bn", "ln"]
