"""Advice for vanishing gradients that names what the model has (pure functions).

"Use ReLU instead of sigmoid/tanh" fits a network of sigmoid/tanh layers
only. For the others, the advice names the hidden activations the monitor
saw and, when the first record shows it, the visible cause: the outputs'
spread collapsing layer after layer, an initialization far too small.
"""

import dataclasses

#: Activations whose flat ends make gradients vanish by themselves.
SATURATING = ("sigmoid", "hard_sigmoid", "tanh")

#: At the first record, a last hidden layer whose outputs' std is below this
#: share of the first hidden layer's means the signal shrank on its way
#: through: the initialization is too small (10 SiLU layers of 64 units at
#: N(0, 0.01^2) on digits: 3.5e-13; each layer shrinks the spread ~25x). It
#: only words the advice of a `vanishing_gradient` found anyway.
START_STD_SHRINK = 1e-2

#: Initializers that keep the spread per activation (Keras names).
_INITIALIZER = {"selu": "`lecun_normal`", "tanh": "Glorot", "sigmoid": "Glorot"}


def with_fitting_advice(findings, activations):
    """`findings` with each ratio-based `vanishing_gradient`'s advice fitted
    to the model's hidden activations (`activations`: the monitor's table),
    and the start's spread in its evidence when it shows the cause."""
    if activations is None or activations.empty:
        return findings
    return [_fitted(f, activations) if _is_ratio_vanishing(f) else f for f in findings]


def _is_ratio_vanishing(finding):
    return finding.kind == "vanishing_gradient" and "layers_without_gradient" not in finding.evidence


def _fitted(finding, activations):
    hidden = _hidden(activations)
    if hidden.empty:
        return finding
    names = list(dict.fromkeys(hidden["activation"]))
    if set(names) & set(SATURATING):
        return finding  # the standing advice is about them
    evidence, cause = dict(finding.evidence), ""
    shrink, first, last = _start_shrink(hidden)
    if shrink is not None and shrink < START_STD_SHRINK:
        evidence["start_std_first_hidden"], evidence["start_std_last_hidden"] = first, last
        evidence["start_std_shrink"] = shrink
        cause = (f"At the first record the outputs' std falls from {first:.3g} in the first hidden "
                 f"layer to {last:.3g} in the last: the initialization is far too small for this "
                 "depth, every layer shrinks the signal and the gradient with it. ")
    init = _INITIALIZER.get(names[0], "He (`he_normal`)")
    advice = (f"The hidden layers use {', '.join(names)}, which do not saturate on their positive "
              f"side: the gradient shrinks through the layers' weights. {cause}Use {init} initialization "
              "(zero biases), put BatchNormalization or LayerNormalization between Dense and "
              "activation, or add residual connections.")
    return dataclasses.replace(finding, evidence=evidence, advice=advice)


def _hidden(activations):
    """The rows of watched layers with a nonlinear activation, output layer excluded."""
    output_layer = activations["layer"].unique()[-1]
    rows = activations[activations["layer"] != output_layer]
    return rows[~rows["activation"].isin(("linear", "softmax"))]


def _start_shrink(hidden):
    """(last/first hidden std, first's, last's) at the first record, or Nones."""
    start = hidden[hidden["step"] == hidden["step"].min()]
    if start["layer"].nunique() < 2:
        return None, None, None
    first, last = float(start["std"].iloc[0]), float(start["std"].iloc[-1])
    if not first > 0:
        return None, None, None
    return last / first, first, last

