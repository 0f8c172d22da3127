"""Lets each trial's traced graphs be freed once the trial is over.

TF 2.19 and later keep every graph that used `tf.custom_gradient` alive for
the whole process: the gradient function is registered in a global registry
under a fresh `CustomGradient-N` name and its closure holds the graph's
tensors (TF issue #97697). Keras uses one on every training step: the
optimizer's gradient all-reduce goes through `ReplicaContext.all_reduce`,
which is a custom gradient. So every trial's `fit` left its train function's
graph behind, in every keras-tuner tuner: measured here, about 7,000 Python
objects per trial (MLP on digits), and a full `gc.collect()` (keras-tuner
runs one before each trial) grew slower with them. The likely cause of the
bench's searches growing slower along one process (RandomSearch on digits:
18 s a search at the start, 52 s after 80 searches), not measured apart.

The registry is private to TF and has no public way out, hence the private
import below; without it (another TF) nothing is done. Only entries created
while the trial ran are dropped, after it ends: a custom gradient is looked
up when its own graph is differentiated, during that graph's trace, which is
over by then. (A graph traced in a trial and differentiated from outside
after it, through a saved concrete function, would miss its gradient; a
trial's training does not do that.)
"""

import contextlib
import gc

from tensorflow.python.framework import ops as _tf_ops  # private: see the module doc

_PREFIX = "CustomGradient-"


def _registry():
    registry = getattr(getattr(_tf_ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


@contextlib.contextmanager
def released_graphs():
    """Drops the custom gradients registered inside the block when it ends."""
    registry = _registry()
    if registry is None:
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for key in [k for k in list(registry) if k.startswith(_PREFIX) and k not in before]:
            registry.pop(key, None)


@contextlib.contextmanager
def frozen_heap():
    """Leaves the objects that exist when the block starts out of the cyclic
    garbage collector's passes until it ends (`gc.freeze`).

    keras-tuner runs `keras.backend.clear_session()` and `gc.collect()`
    before every trial: two full passes over the whole heap, which with
    TensorFlow, Keras, pandas and matplotlib loaded holds about 400,000
    objects (0.3 s a pass measured on a 2-core AMD EPYC, 3 us with them
    frozen). Objects created inside the block (each trial's models and
    graphs) are still collected as before; cycles among the older ones wait
    for the first pass after the block. Nothing is done when the caller has
    frozen objects already: `gc.unfreeze` would release theirs too.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
