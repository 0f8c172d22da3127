"""One instrumentation of a model's training step, shared by the monitors.

Statistics come from the training step itself, never from an extra pass:

- an instance-level `model.train_step` wrapper turns capture on while the
  step is traced, then packs the statistics into ONE float32 variable;
- leaf layers' `call` is patched on the instance; outputs are kept only at
  trace time, only while capture is on, and only for tensors of the step's own
  graph (so predict/evaluate graphs and RNN loop bodies gain nothing);
- the outer `model.optimizer.apply` is wrapped to reduce each kernel's
  gradient to a sum of squares (divided by the loss scale squared).

Activation statistics are gated with one `tf.cond` on the step counter;
gradient norms, their running maximum and non-finite counts run every step so
spikes between logging steps are not missed. The host reads the variable only
on logging steps. Every patch is undone when the last monitor detaches.
"""

import threading

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks._packing import Layout
from keras_recipes.callbacks._patching import Patches

_CORES = {}


def attach(model, kind, request, owner):
    """Subscribes `owner` to `model`'s instrumentation, creating it if needed."""
    core = _CORES.get(id(model))
    if core is None or core.model is not model:
        core = _CORES[id(model)] = Instrumentation(model)
    core.subscribe(kind, request, owner)
    return core


class Instrumentation:
    """Patches one model for the monitors subscribed to it (see module doc)."""

    def __init__(self, model):
        self.model = model
        self._requests = {}
        self._owners = {}
        self._patches = Patches()
        self._local = threading.local()
        self._saved_train_function = None

    def subscribe(self, kind, request, owner):
        if kind in self._owners and self._owners[kind] is not owner:
            raise ValueError(
                f"Only one {kind} monitor can watch a model at a time. "
                f"Expected a single monitor of that kind. Received: {owner!r} "
                f"while {self._owners[kind]!r} is attached."
            )
        self._requests[kind] = request
        self._owners[kind] = owner
        self._install()

    def detach(self, owner):
        for kind in [k for k, o in self._owners.items() if o is owner]:
            del self._owners[kind], self._requests[kind]
        self._patches.undo()
        if self._owners:
            self._install()
            return
        self.model.train_function = self._saved_train_function
        if _CORES.get(id(self.model)) is self:
            del _CORES[id(self.model)]

    def _install(self):
        model = self.model
        self._patches.undo()
        if self._saved_train_function is None:
            self._saved_train_function = model.train_function
        activations = self._requests.get("activations")
        self._activation_layers = (
            _layers.activation_layers(model, activations.layers) if activations else []
        )
        gradients = self._requests.get("gradients")
        # Subclassed models may build their weights only when the step is
        # first traced: gradient layers are resolved there.
        self._gradient_layers = None if gradients else []
        self._layout = None
        self._variable = None
        self._counter = _make_variable(model, np.int64(0))
        self._host_step, self._last_poll = 0, None
        for index, (_, layer, _) in enumerate(self._activation_layers):
            self._patches.wrap(layer, "call", self._capturing_call(index))
        self._patches.wrap(model, "train_step", self._step)
        if gradients and model.optimizer is not None:
            self._patches.wrap(model.optimizer, "apply", self._apply)
        model.make_train_function(force=True)

    # ----- Inside the compiled step (trace time) -----

    def _capturing_call(self, index):
        def wrapper(original, *args, **kwargs):
            outputs = original(*args, **kwargs)
            local = self._local
            if getattr(local, "active", False):
                tensors = [t for t in keras.tree.flatten(outputs) if tf.is_tensor(t)]
                if tensors and self._owned(tensors[0]):
                    local.captures.append((index, tensors[0]))
            return outputs

        return wrapper

    def _owned(self, tensor):
        if tf.executing_eagerly():
            return True
        return getattr(tensor, "graph", None) is self._local.graph

    def _step(self, original, data):
        local = self._local
        local.graph = tf.compat.v1.get_default_graph()
        local.captures, local.gradients = [], None
        local.step = tf.cast(self._counter.read_value(), "int64")
        local.active = True
        try:
            outputs = original(data)
        finally:
            local.active = False
        self._store(local)
        self._counter.assign_add(1)
        return outputs

    def _store(self, local):
        activations = self._requests.get("activations")
        self._resolve_gradient_layers()
        if self._layout is None:
            self._layout = Layout(
                gradient_layers=[name for name, _ in self._gradient_layers],
                captures=_layers.call_labels(
                    self._activation_layers, [index for index, _ in local.captures]
                ),
                bins=activations.bins if activations else 0,
                has_gradients="gradients" in self._requests,
                has_activations=activations is not None,
            )
        variable = self._packed_variable()
        old = variable.read_value()
        parts = []
        if self._layout.has_gradients:
            parts.append(self._gradient_part(local, old))
        if self._layout.has_activations:
            parts.append(self._activation_part(local, old, activations))
        variable.assign(tf.concat(parts, axis=0))

    def _activation_part(self, local, old, request):
        layout = self._layout
        start, stop = layout.activation_slice
        if len(local.captures) != len(layout.captures):
            raise ValueError(
                "The model's forward pass changed between traces. Expected "
                f"{len(layout.captures)} watched layer calls. "
                f"Received: {len(local.captures)} calls."
            )

        def compute():
            stats = [
                _statistics.tensor_statistics(tensor, label[1], request.bins)
                for (_, tensor), label in zip(local.captures, layout.captures)
            ]
            step = tf.cast(local.step, "float32")[None]
            return tf.concat([step] + stats, axis=0)

        is_logged = tf.equal(local.step % request.every, 0)
        return tf.cond(is_logged, compute, lambda: old[start:stop])

    def _gradient_part(self, local, old):
        count = len(self._gradient_layers)
        if local.gradients is None:
            nan = tf.fill([count], float("nan"))
            local.gradients = (nan, tf.zeros([count]), nan, nan)
        sums, non_finite, weight_sums, update_sums = local.gradients
        norm = tf.sqrt(sums)
        acc_max, acc_bad, snapshot = self._layout.split_gradients(old)
        finite_norm = tf.where(tf.math.is_finite(norm), norm, 0.0)
        if not isinstance(self.model.optimizer, keras.optimizers.LossScaleOptimizer):
            finite_norm = norm
        acc_max = tf.maximum(acc_max, finite_norm)
        acc_bad = acc_bad + non_finite
        step = tf.cast(local.step, "float32")[None]
        fresh = tf.concat(
            [step, norm, acc_max, acc_bad, tf.sqrt(weight_sums), tf.sqrt(update_sums)],
            axis=0,
        )
        is_logged = tf.equal(local.step % self._requests["gradients"].every, 0)
        snapshot = tf.where(is_logged, fresh, snapshot)
        acc_max = tf.where(is_logged, tf.zeros_like(acc_max), acc_max)
        acc_bad = tf.where(is_logged, tf.zeros_like(acc_bad), acc_bad)
        return tf.concat([acc_max, acc_bad, snapshot], axis=0)

    def _apply(self, original, grads, trainable_variables=None):
        local = self._local
        if not getattr(local, "active", False):
            return original(grads, trainable_variables)
        self._resolve_gradient_layers()
        grads = list(grads)
        variables = list(trainable_variables or self.model.trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if id(v) in self._slots]
        pairs = [(g, v) for g, v in pairs if g is not None]
        sums, non_finite = self._gradient_sums(pairs)
        is_logged = tf.equal(local.step % self._requests["gradients"].every, 0)
        weights = [v for _, v in pairs]
        tf.cond(is_logged, lambda: self._snapshot_weights(weights), tf.no_op)
        result = original(grads, trainable_variables)
        zeros = tf.zeros([len(self._gradient_layers)])
        weight_sums, update_sums = tf.cond(
            is_logged, lambda: self._weight_sums(weights), lambda: (zeros, zeros)
        )
        local.gradients = (sums, non_finite, weight_sums, update_sums)
        return result

    def _gradient_sums(self, pairs):
        from keras_recipes.callbacks import _gradients

        return _gradients.layer_sums(
            pairs, self._slots, len(self._gradient_layers), self.model
        )

    def _snapshot_weights(self, weights):
        for weight in weights:
            self._shadows[id(weight)].assign(tf.cast(weight.value, "float32"))
        return tf.no_op()

    def _weight_sums(self, weights):
        count = len(self._gradient_layers)
        weight_sums, update_sums = [[] for _ in range(count)], [[] for _ in range(count)]
        for weight in weights:
            before = self._shadows[id(weight)].read_value()
            after = tf.cast(weight.value, "float32")
            slot = self._slots[id(weight)]
            weight_sums[slot].append(tf.reduce_sum(tf.square(before)))
            update_sums[slot].append(tf.reduce_sum(tf.square(after - before)))
        total = lambda parts: tf.stack([tf.add_n(p) if p else 0.0 for p in parts])
        return total(weight_sums), total(update_sums)

    def _packed_variable(self):
        if self._variable is None:
            initial = self._layout.initial_vector()

            def create():
                self._variable = _make_variable(self.model, initial)

            _create_once(create)
        return self._variable

    def _resolve_gradient_layers(self):
        if self._gradient_layers is not None:
            return

        def create():
            layers = _layers.gradient_layers(self.model)
            weights = [w for _, group in layers for w in group]
            self._slots = {
                id(w): slot for slot, (_, group) in enumerate(layers) for w in group
            }
            self._shadows = {
                id(w): _make_variable(self.model, np.zeros(w.shape, "float32"))
                for w in weights
            }
            self._gradient_layers = layers

        _create_once(create)

    # ----- On the host -----

    def poll(self, batch_count, begin, end):
        """Returns the packed statistics after a batch if it held a logging
        step (the same answer for every monitor asking about that batch)."""
        if self._last_poll is not None and self._last_poll[0] == batch_count:
            return self._last_poll[1]
        steps = range(self._host_step, self._host_step + end - begin + 1)
        self._host_step += end - begin + 1
        everies = [request.every for request in self._requests.values()]
        wanted = self.model.steps_per_execution > 1 or any(
            s % every == 0 for s in steps for every in everies
        )
        vector = None
        if wanted and self._variable is not None:
            vector = np.asarray(self._variable.read_value(), dtype="float64")
        self._last_poll = (batch_count, vector)
        return vector

    @property
    def host_step(self):
        """Training steps run so far in this fit, as counted on the host."""
        return self._host_step

    @property
    def layout(self):
        return self._layout


def _create_once(create):
    # Variables are created outside the step's graph, and in cross-replica
    # context under a distribution strategy (replicas reach this together).
    context = tf.distribute.get_replica_context()
    if context is not None and tf.distribute.has_strategy():
        context.merge_call(lambda *_: create())
    else:
        create()


def _make_variable(model, value):
    strategy = model.distribute_strategy
    with tf.init_scope(), strategy.scope():
        if tf.distribute.has_strategy():
            return tf.Variable(
                value,
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        return tf.Variable(value, trainable=False)
