"""One instrumentation of a model's training step, shared by the monitors.

Both monitors (used together, or forwarded by another callback) subscribe to
the same `Instrumentation`, so the model is patched once for all of them:

- an instance-level `model.train_step` wrapper turns capture on while the
  step is traced, then packs each kind of record (gradients, activations)
  into one float32 variable (the only ones the host reads);
- watched layers' `call` (the sublayers of user-defined layers included,
  see `_layers`) is patched on the instance; outputs are kept only at
  trace time, only while capture is on, and only for tensors of the step's own
  graph (so predict/evaluate graphs and RNN loop bodies gain nothing);
- the outer `model.optimizer.apply` is wrapped to reduce each kernel's
  gradient to a sum of squares (divided by the loss scale squared);
- with one step per batch, the host reads the weights before a gradient
  record and makes the rest of the record after it (`StepRecorder.host_*`).

What runs in the step is `_recorder.StepRecorder`. The host reads the packed
variables only after logging steps, and joins them (`_packing.Layout`). Every patch is undone, and the train
function Keras made is put back, when the first monitor detaches (at the end of `fit`),
or, when `fit` ended by an exception (Keras then calls no `on_train_end`), at the start of
the model's next `fit`.
"""

from keras_recipes.callbacks import _layers
from keras_recipes.callbacks._patching import Patches
from keras_recipes.callbacks._recorder import StepRecorder

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
        self._saved_train_function = None
        self._recorder = None

    def subscribe(self, kind, request, owner):
        if kind in self._owners and self._owners[kind] is not owner:
            attached = self._owners[kind]
            # `fit` will not call `on_train_end` after this error: undo now.
            self._owners, self._requests = {}, {}
            self._teardown()
            raise ValueError(
                f"Only one {kind} monitor can watch a model at a time. "
                f"Expected a single monitor of that kind. Received: {owner!r} "
                f"while {attached!r} is attached."
            )
        self._requests[kind] = request
        self._owners[kind] = owner
        try:
            self._install()
        except Exception:
            self._owners, self._requests = {}, {}
            self._teardown()
            raise

    def detach(self, owner):
        for kind in [k for k, o in self._owners.items() if o is owner]:
            del self._owners[kind], self._requests[kind]
        if self._owners:
            # Monitors detach at the end of `fit`, together: the others are
            # about to detach too. Until they do, the model is as before;
            # one that trains again subscribes again, which installs.
            self._uninstall()
        else:
            self._teardown()

    def _uninstall(self):
        self._patches.undo()
        if self._saved_train_function is not None:
            self.model.train_function = self._saved_train_function
            self._saved_train_function = None
        self._recorder = None

    def _teardown(self):
        self._uninstall()
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
        self._recorder = StepRecorder(model, dict(self._requests), self._activation_layers)
        self._host_step, self._last_poll = 0, None
        self._parts = {part: [] for part in self._requests}
        recorder = self._recorder
        for index, (_, layer, _) in enumerate(self._activation_layers):
            self._patches.wrap(layer, "call", recorder.capturing_call(index))
        self._patches.wrap(model, "train_step", recorder.step)
        if gradients and model.optimizer is not None:
            self._patches.wrap(model.optimizer, "apply", recorder.apply)
        model.make_train_function(force=True)
        self._patches.wrap(model, "make_train_function", self._next_fit)

    def _next_fit(self, original, force=False):
        """Keras's `fit` calls `make_train_function` before the callbacks'
        `on_train_begin`, and does not call `on_train_end` when it ends by
        an exception. So a fit that starts while this is installed comes
        after one that raised: undo every patch, then let Keras build (or
        reuse) the model's own train function. Monitors of the new fit
        install again in their `on_train_begin`."""
        self._owners, self._requests = {}, {}
        self._teardown()
        return self.model.make_train_function(force)

    # ----- On the host -----

    def poll(self, kind, batch_count, begin, end):
        """Returns the packed statistics after a batch if it held a logging
        step of `kind`'s monitor, else `None`.

        Only the due parts are read from the device (one read each per
        batch, whichever monitor asks first); the other parts come from the
        last read. Batches without a logging step cost a few integer
        operations.
        """
        if self._last_poll is None or self._last_poll[0] != batch_count:
            first = self._host_step
            self._host_step += end - begin + 1
            every_batch = self.model.steps_per_execution > 1
            due = {
                part for part, request in self._requests.items()
                if every_batch or _holds_multiple(first, self._host_step - 1, request.every)
            }
            self._last_poll = (batch_count, due, set())
            self._host_work(first, due)
        if kind not in self._last_poll[1]:
            return None
        recorder = self._recorder
        if recorder is None or recorder.layout is None:
            return None
        _, due, read = self._last_poll
        if due - read - set(recorder.variables):
            return None  # a part with nothing recorded yet
        for part in due - read:
            self._parts[part] = recorder.variables[part].numpy()
            read.add(part)
        return recorder.layout.join(self._parts)

    def _host_work(self, step, due):
        """The gradient record's host part, after the batch of `step` (one
        step per batch here): the record if due, then the weights' read if
        the next step is a record (in this order: with a record every other
        step, the record uses the weights read before this step)."""
        recorder = self._recorder
        if recorder is None or not recorder.host_gradients or recorder.layout is None:
            return
        if "gradients" in due:
            self._parts["gradients"] = recorder.host_gradient_part(step)
            self._last_poll[2].add("gradients")
        if (step + 1) % self._requests["gradients"].every == 0:
            recorder.host_read_weights()

    @property
    def host_step(self):
        """Training steps run so far in this fit, as counted on the host."""
        return self._host_step

    @property
    def slots_without_gradients(self):
        """Positions, among the gradient layers, of those the step got no gradient for."""
        return set() if self._recorder is None else self._recorder.slots_without_gradients

    @property
    def layout(self):
        return None if self._recorder is None else self._recorder.layout


def _holds_multiple(first, last, every):
    """Whether a multiple of `every` lies in [first, last]."""
    return last >= first and last // every * every >= first
