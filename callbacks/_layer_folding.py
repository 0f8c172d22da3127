"""Folding per-layer findings of one cause into one finding (pure functions).

Layers behind a wholly dead ReLU layer are dead because of it; a stack of
sigmoid/tanh layers with too big weights saturates layer after layer. One
finding per layer would repeat the same advice: each is reported once, on
the first layer, with the others in its evidence.
"""


def fold_downstream_dead(found, dominators, labels):
    """Drops the `dead_relu` findings of layers behind a wholly dead layer,
    listing them in the first such layer's finding instead.

    `labels` are the table's layer labels: a shared layer's later calls are
    "name/call_1"... A shared layer is behind what is behind it (every
    path to every call goes through it), and is wholly dead when every
    call is.
    """
    dead = {f.layer: f for f in found if f.kind == "dead_relu"}
    calls = {}
    for label in labels:
        calls.setdefault(_layer_of(label), []).append(label)
    wholly_dead = [
        layer for layer in dead if layer in calls and all(
            label in dead and dead[label].evidence["median_dead_fraction"] >= 1.0
            for label in calls[layer])
    ]
    folded = set()
    for label in dead:
        above = dominators.get(label, dominators.get(_layer_of(label), ()))
        cause = next((c for c in wholly_dead if c in above), None)
        if cause is not None:
            dead[cause].evidence.setdefault("downstream_dead_layers", []).append(label)
            folded.add(label)
    return [f for f in found if not (f.kind == "dead_relu" and f.layer in folded)]


def _layer_of(label):
    """The layer name of a call label ("name/call_2" is a call of "name")."""
    head, _, tail = label.rpartition("/call_")
    return head if head and tail.isdigit() else label


def fold_saturated(found):
    """Drops the `saturated_activation` findings after the first (in the
    order of `found`, the table's layer order), listing their layers in its
    evidence as `also_saturated_layers`: one initialization (or input scale)
    saturates them all, and one fix serves them all."""
    saturated = [f for f in found if f.kind == "saturated_activation"]
    if len(saturated) < 2:
        return found
    saturated[0].evidence["also_saturated_layers"] = [f.layer for f in saturated[1:]]
    folded = {id(f) for f in saturated[1:]}
    return [f for f in found if id(f) not in folded]
