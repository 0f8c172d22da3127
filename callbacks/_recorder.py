"""What runs inside the compiled training step for the monitors.

One `StepRecorder` per instrumented `fit` (see `_instrumentation`): its
`step`, `apply` and `capturing_call` replace `model.train_step`,
`model.optimizer.apply` and the watched layers' `call` on their instances.
Work happens at trace time, and tracing costs too (about 0.3 ms per op on
CPU, plus graph optimization), so the step gets as few ops as it can.

On CPU each op of a step costs a few microseconds whatever it computes, so
at every step the graph runs: one op per kernel gradient (its half sum of
squares) written into a ring of the steps since the last record, a step
counter, a table lookup of what this step does (`_schedule`), and ONE
`Case` op that is not lowered (`_control.switch`), so its untaken branches
cost nothing. Its branches are the action sets a step can take: nothing;
copy the weights (the step before a gradient record, for the update norm);
record the gradients (this step's sums, the weights' and the update's, and
the ring); record the activation statistics and histograms; or several of
these. No branch holds a nested cond. Each record kind goes into its own
variable, which the host reads after logging steps and unpacks
(`_packing.Layout`; square roots, peaks and counts are taken there).

When each step is its own batch and gradients are recorded less often than
every step, the host makes the gradient records between batches
(`_host_records`).
"""

import functools
import threading

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.callbacks import _control
from keras_recipes.callbacks import _gradients
from keras_recipes.callbacks import _host_records
from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _schedule
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks import _variables
from keras_recipes.callbacks._packing import Layout

#: Whether the host makes the gradient records between batches where it can
#: (`_host_records`). `bench/monitor_overhead.py --in-step` turns it off
#: for a fit to compare with the records made inside the step.
HOST_RECORDS = True

#: Outputs recomputed from their input inside the logging branch. A loss
#: given probabilities reads the logits under them (Keras keeps them on the
#: output), so TF prunes an output layer's softmax or sigmoid from the step;
#: capturing it as is would run it at every step (about 90 us on CPU).
_RECOMPUTED = {
    "Softmax": tf.nn.softmax,
    "Sigmoid": tf.sigmoid,
    "LogSoftmax": tf.nn.log_softmax,
}


class StepRecorder(_host_records.HostRecords):
    """Records the statistics the requests ask for from the training step."""

    def __init__(self, model, requests, activation_layers):
        self.model = model
        self._requests = requests
        self._activation_layers = activation_layers
        self._local = threading.local()
        self.layout = None
        #: Slots of the gradient layers that the traced step's `apply` got
        #: no gradient for (a sublayer that a user-defined layer never calls).
        self.slots_without_gradients = set()
        gradients = requests.get("gradients")
        # Variables made while the step is traced make TF trace it twice, so
        # they are made here when possible: gradient layers once the model is
        # built (subclassed models may build only in the step), the packed
        # vector with a free length unless XLA compiles the step.
        self._gradient_layers = None if gradients else []
        with model.distribute_strategy.scope():
            distributed = tf.distribute.has_strategy()
        built = bool(gradients) and model.built and bool(model.trainable_weights)
        self.host_gradients = HOST_RECORDS and (
            built and gradients.every > 1 and model.steps_per_execution == 1 and not distributed
        )
        # The ring holds the half sums of every step the host has not read
        # yet: with several steps per batch, the host reads only the last
        # record of each batch, so the ring reaches back to the record it
        # read the batch before.
        self._ring_rows = _ring_rows(gradients.every, model.steps_per_execution) if gradients else 0
        self._shadows_filled = built or not gradients
        self._before = None
        if built:
            self._resolve_gradient_layers()
            if self.host_gradients:
                self.host_read_weights()  # the weights before step 0
        # The host reads one packed vector per record kind (`Layout` parts).
        self.variables = {}
        self._free_length = not model.jit_compile
        if self._free_length:
            empty = np.zeros(0, "float32")
            for part in self._graph_parts():
                self.variables[part] = _variables.make_variable(model, empty, shape=[None])
        self._counter = _variables.make_variable(model, np.int64(0))

    def capturing_call(self, index):
        def wrapper(original, *args, **kwargs):
            outputs = original(*args, **kwargs)
            local = self._local
            if getattr(local, "active", False):
                tensors = [t for t in keras.tree.flatten(outputs) if tf.is_tensor(t)]
                if tensors and self._owned(tensors[0]):
                    local.captures.append((index, _deferred(tensors[0])))
            return outputs

        return wrapper

    def _owned(self, tensor):
        if tf.executing_eagerly():
            return True
        return getattr(tensor, "graph", None) is self._local.graph

    def step(self, original, data):
        local = self._local
        local.graph = tf.compat.v1.get_default_graph()
        local.captures, local.gradients = [], None
        local.step = tf.cast(self._counter.read_value(), "int64")
        local.created = 0
        local.active = True
        try:
            with tf.variable_creator_scope(self._count_creation):
                outputs = original(data)
                self._prepare(local)
        finally:
            local.active = False
        if not self._thrown_away(local):
            self._store(local)
        # Keras calls the step once more on an exhausted iterator of unknown
        # length; the inlined step then runs every op that does not wait on
        # the data (TF orders stateful ops only per resource) before the data
        # error ends it. So the count waits on the data: it counts the steps
        # that trained, as the host does.
        with tf.control_dependencies(_tensors(data)):
            self._counter.assign_add(1)
        return outputs

    def _count_creation(self, next_creator, **kwargs):
        self._local.created += 1
        return next_creator(**kwargs)

    def _thrown_away(self, local):
        # A trace that creates variables (the optimizer's, on the first
        # `fit`) is TF's initializing trace: TF traces the step again and
        # runs that second graph, so the monitors add no ops to the first.
        # (Were the initializers unliftable, TF would run the first graph
        # once, for step 0, which then goes unrecorded.)
        return local.created > 0 and not tf.executing_eagerly()

    def _prepare(self, local):
        """Finds the layers, makes the layout and the variables (no ops)."""
        activations = self._requests.get("activations")
        gradients = self._requests.get("gradients")
        self._resolve_gradient_layers()
        if self.layout is None:
            labels = _layers.call_labels(self._activation_layers, [i for i, _ in local.captures])
            self.layout = Layout(
                [name for name, _ in self._gradient_layers], labels,
                activations.bins if activations else 0,
                gradients is not None, activations is not None,
                ring_rows=self._ring_rows,
                loss_scaled=isinstance(self.model.optimizer, keras.optimizers.LossScaleOptimizer),
            )
        self._part_variables()  # made outside the `Case` below if still missing

    def _store(self, local):
        activations = self._requests.get("activations")
        gradients = self._requests.get("gradients")
        every_g = gradients.every if gradients is not None else None
        every_a = activations.every if activations is not None else None
        if self.layout.has_gradients:
            self._write_ring(local, every_g)
        if self.host_gradients:
            every_g = None  # the host reads the weights and makes the record
        if every_g is None and every_a is None:
            return
        # Everything but the ring happens in this one `Case` op, one branch
        # per set of actions a step can take: nothing, the weight copy the
        # step before a gradient record, the records.
        branches = [
            functools.partial(self._act, local, actions)
            for actions in _schedule.action_sets(every_g, every_a)
        ]
        if len(branches) == 1:  # every step does the same
            branches[0]()
        else:
            _control.switch(self._branch(local, every_g, every_a), branches)

    def _act(self, local, actions):
        if actions & _schedule.GRADIENTS:
            self.variables["gradients"].assign(self._gradient_record(local))
        if actions & _schedule.ACTIVATIONS:
            self.variables["activations"].assign(self._activation_record(local))
        if actions & _schedule.COPY:  # after the record, which reads the copies
            _gradients.copy_weights(local.gradients[1], self._shadows)
        return tf.no_op()

    def _write_ring(self, local, every):
        """Writes this step's half sums into row `step % rows` of the ring
        (`rows` is `every` with one step per batch)."""
        count = len(self._gradient_layers)
        if local.gradients is None:  # the step never reached `optimizer.apply`
            local.gradients = (tf.fill([count], float("nan")), [])
        local.phase = local.step % every
        row = local.phase if self._ring_rows == every else local.step % self._ring_rows
        rows = tf.expand_dims(local.gradients[0], 0)
        index = tf.expand_dims(row, 0)
        if tf.distribute.has_strategy():  # replica-local variables cannot scatter
            ring = tf.tensor_scatter_nd_update(self._ring.read_value(), index[:, None], rows)
            self._ring.assign(ring)
        else:
            self._ring.scatter_update(tf.IndexedSlices(rows, index))

    def _branch(self, local, every_g, every_a):
        table = _schedule.branch_table(every_g, every_a)
        if table is None:
            return _schedule.computed_branch(local.step, every_g, every_a)
        if len(table) == every_g:
            index = local.phase  # already `step % every_g`
        else:
            index = local.step % len(table)
        return tf.gather(tf.constant(table), index)

    def _activation_record(self, local):
        layout = self.layout
        if len(local.captures) != len(layout.captures):
            raise ValueError(
                "The model's forward pass changed between traces. Expected "
                f"{len(layout.captures)} watched layer calls. "
                f"Received: {len(local.captures)} calls."
            )
        tensors = [capture() for _, capture in local.captures]
        kinds = [activation for _, activation in layout.captures]
        axes = [_statistics.unit_axis(self._activation_layers[i][1]) for i, _ in local.captures]
        bins = self._requests["activations"].bins
        stats = _statistics.stacked_statistics(tensors, kinds, bins, axes)
        return tf.concat([tf.reshape(tf.cast(local.step, "float32"), [1]), stats], axis=0)

    def _gradient_record(self, local):
        """This step's half sums, the weights' and the update's, and the ring
        of the steps since the last record (the host takes the square roots,
        the peaks and the non-finite steps: `Layout.gradient_snapshot`)."""
        count = len(self._gradient_layers)
        weight_sums, update_sums = _gradients.weight_half_sums(
            local.gradients[1], self._shadows, self._slots, count
        )
        step = tf.reshape(tf.cast(local.step, "float32"), [1])
        ring = tf.reshape(self._ring.value(), [-1])
        return tf.concat([step, local.gradients[0], weight_sums, update_sums, ring], axis=0)

    def apply(self, original, grads, trainable_variables=None):
        local = self._local
        if not getattr(local, "active", False):
            return original(grads, trainable_variables)
        filled = self._shadows_filled
        self._resolve_gradient_layers()
        grads = list(grads)
        variables = list(trainable_variables or self.model.trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if id(v) in self._slots]
        pairs = [(g, v) for g, v in pairs if g is not None]
        weights = [v for _, v in pairs]
        if not filled and not self._thrown_away(local):
            first = tf.equal(local.step, 0)
            _control.cond(first, lambda: self._snapshot_weights(weights), tf.no_op)
        # The scale the loss was multiplied by, read before `apply` updates it.
        scale = _gradients.loss_scale(self.model.optimizer)
        result = original(grads, trainable_variables)
        if not self._thrown_away(local):  # `apply` may have built the optimizer
            sums = _gradients.layer_half_sums(
                pairs, self._slots, len(self._gradient_layers), self.model, scale
            )
            local.gradients = (sums, weights)
            received = {self._slots[id(weight)] for weight in weights}
            self.slots_without_gradients = set(range(len(self._gradient_layers))) - received
        return result

    def _snapshot_weights(self, weights):
        _gradients.copy_weights(weights, self._shadows)
        return tf.no_op()

    def _graph_parts(self):
        """The record kinds the step writes into a variable."""
        parts = [part for part in ("gradients", "activations") if part in self._requests]
        return [part for part in parts if not (part == "gradients" and self.host_gradients)]

    def _part_variables(self):
        missing = [part for part in self._graph_parts() if part not in self.variables]
        if not missing:
            return
        initial = self.layout.initial_parts()

        def create():
            for part in missing:
                self.variables[part] = _variables.make_variable(self.model, initial[part])

        _variables.create_once(create)

    def _resolve_gradient_layers(self):
        if self._gradient_layers is not None:
            return

        def create():
            layers = _layers.gradient_layers(self.model)
            weights = [w for _, group in layers for w in group]
            self._slots = {
                id(w): slot for slot, (_, group) in enumerate(layers) for w in group
            }
            make = functools.partial(_variables.make_variable, self.model)
            self._shadows = {} if self.host_gradients else {
                id(w): make(_variables.initial_shadow(w)) for w in weights
            }
            self._ring = make(np.zeros((self._ring_rows, len(layers)), "float32"))
            self._gradient_layers = layers

        _variables.create_once(create)


def _ring_rows(every, steps_per_execution):
    """Rows of the gradient ring: the most steps between two records the
    host reads (`every` rounded up to cover a batch of several steps)."""
    return every * -(-steps_per_execution // every)


def _tensors(data):
    """The tensors in a step's `data` (the parts of sparse and ragged ones)."""
    return [t for t in tf.nest.flatten(data, expand_composites=True) if tf.is_tensor(t)]


def _deferred(tensor):
    """A function returning `tensor`, recomputed where that saves a step op."""
    op = getattr(tensor, "op", None)
    if tf.executing_eagerly() or op is None or op.type not in _RECOMPUTED:
        return lambda: tensor
    inputs = op.inputs[0]
    return lambda: _RECOMPUTED[op.type](inputs)
