"""Wall-time overhead of the training monitors, side by side in one process.

Contenders, each timed on the same `fit` (a fresh model with the same initial
weights every time, so every contender pays one trace):

- `none`: no callback (the reference);
- `defaults`: `ActivationStats()` + `GradientMonitor()` at their defaults;
- `gradient_norms_every_step`: `GradientMonitor()` alone (its norms are
  computed at every step, so the max and the non-finite steps between
  records miss nothing; recorded every 10);
- `full_every_step`: both monitors with `every_n_batches=1` (every
  statistic and histogram computed AND read by the host at every step);
- `tensorboard_hist`: Keras `TensorBoard(histogram_freq=1)`;
- `naive_extra_pass`: a callback that runs an extra forward/backward pass on
  a batch at each logging step (every 10 batches, GradientMonitor's default)
  to get gradient norms, as the existing tools do.

Models: an MLP on scikit-learn's digits and a small CNN on generated 32x32
images. Every timed fit starts from a collected heap (`gc.collect()` first:
a full pass takes about 0.3 s on a 2-core machine, and would otherwise land
at random in another contender's fit). Prints, per model, the median over at
least 5 repeats of the whole `fit` wall time (which includes tracing the
step once) and of the steady-state epoch time (epochs after the first), each
with its ratio to `none`; beside the whole fit's, the median of the rounds'
own ratios ("paired": each round's fits run back to back, so a slow spell
of the machine hits both) and their quartiles, and the fastest fit's ratio
to the fastest `none` (the least disturbed of each); last,
`overhead_default=<ratio>`: the larger of the two models' whole-`fit`
ratios (of the medians) for `defaults`.
Targets: defaults <= 1.03, gradient norms every step <= 1.05.

Then, per model, the cost of the compiled step alone: each contender's
`train_function` (kept from a short fit, so it holds the monitors' ops) is
called 100 times per block, blocks interleaved, and the median microseconds
per step are printed with their ratio to `none`, and under them the fastest
block's (the one least disturbed by other work on a shared machine). This
leaves out tracing and Python's per-batch work, and is far less noisy than
whole fits. Last, each
fit's extra time is split into its per-step part (the compiled step's extra
microseconds times the fit's steps) and the rest: what is paid once per fit
(tracing the monitors' ops, making their variables) and the callbacks'
Python work after each batch.

Then, per model, one-step fits (two epochs of one batch, median of the
repeats): their extra time over `none` is what the monitors cost once per
fit, as wall time and as the main thread's CPU time split into tracing, the
rest of the first batch and the rest of the fit. And the host's share of a
gradient record (with one step per batch, the host reads the weights the
batch before a record and makes the record after it): microseconds for each.

With `--in-step`, two more contenders, `defaults_in_step` and
`gradient_norms_in_step`, make their gradient records inside the step, as
the monitors did before the host made them between batches: a side-by-side
comparison of the two designs.

`--models mlp` (or `cnn`), `--contenders NAME...` (`none` always runs) and
`--fits-only` (the whole-fit table alone) make a focused run affordable
with many repeats: on a shared 2-core machine whose speed changes in spells
of seconds, 5 repeats cannot resolve a few percent.

Usage: python bench/monitor_overhead.py [--quick] [--repeats N] [--epochs N] [--in-step]
       [--models mlp cnn] [--contenders NAME ...] [--fits-only]
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.callbacks import ActivationStats, GradientMonitor  # noqa: E402
from keras_recipes.callbacks import _recorder  # noqa: E402  (for --in-step)

NAIVE_EVERY = 10


class NaiveGradientNorms(keras.callbacks.Callback):
    """What the existing tools do: an extra forward+backward pass."""

    def __init__(self, x, y, every=NAIVE_EVERY):
        super().__init__()
        self.x, self.y, self.every, self.norms = x, y, every, []

    def on_train_begin(self, logs=None):
        self.step = 0
        self.norms = []

    def on_train_batch_end(self, batch, logs=None):
        if self.step % self.every == 0:
            with tf.GradientTape() as tape:
                y_pred = self.model(self.x, training=True)
                loss = self.model.compute_loss(x=self.x, y=self.y, y_pred=y_pred)
            grads = tape.gradient(loss, self.model.trainable_weights)
            self.norms.append([float(tf.norm(g)) for g in grads if g is not None])
        self.step += 1


def mlp_task():
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int32")

    def build():
        return keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])

    return "mlp_digits", build, x, y, 32


def cnn_task():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, 32, 32, 3)).astype("float32")
    y = (x[:, :16].mean(axis=(1, 2, 3)) > 0).astype("int32")

    def build():
        return keras.Sequential([
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ])

    return "cnn_32x32", build, x, y, 64


class _InStep(keras.callbacks.Callback):
    """Placed before the monitors: their gradient records are made inside
    the step for this fit (as before the host made them between batches)."""

    def on_train_begin(self, logs=None):
        _recorder.HOST_RECORDS = False

    def on_train_end(self, logs=None):
        _recorder.HOST_RECORDS = True


IN_STEP = False  # set by --in-step
ONLY = None  # the contenders named by --contenders ('none' always runs)
FITS_ONLY = False  # set by --fits-only


def tasks(models):
    """The tasks of the models named (`mlp`, `cnn`), in that order."""
    return [make() for key, make in (("mlp", mlp_task), ("cnn", cnn_task)) if key in models]


def contenders(x, y, batch_size, log_dir):
    makers = {
        "none": lambda: [],
        "defaults": lambda: [ActivationStats(), GradientMonitor()],
        "gradient_norms_every_step": lambda: [GradientMonitor()],
        "full_every_step": lambda: [ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1)],
        "tensorboard_hist": lambda: [keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1)],
        "naive_extra_pass": lambda: [NaiveGradientNorms(x[:batch_size], y[:batch_size])],
    }
    if IN_STEP:
        makers["defaults_in_step"] = lambda: [_InStep(), ActivationStats(), GradientMonitor()]
        makers["gradient_norms_in_step"] = lambda: [_InStep(), GradientMonitor()]
    if ONLY is not None:
        makers = {c: m for c, m in makers.items() if c == "none" or c in ONLY}
    return makers


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if epoch > 0:
            self.times.append(time.perf_counter() - self.start)

    def on_train_begin(self, logs=None):
        self.times = []


def time_fit(build, weights, x, y, batch_size, epochs, callbacks):
    """Returns (whole fit seconds, median seconds of the epochs after the
    first, the main thread's CPU seconds in the fit).

    Each fit starts from a collected heap: a full gc pass takes about 0.3 s
    on a 2-core machine, and without this the garbage of one contender's
    fit is collected, at random, in another's."""
    keras.utils.set_random_seed(0)
    model = build()
    model.set_weights(weights)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    timer = EpochTimer()
    gc.collect()
    start, cpu = time.perf_counter(), time.thread_time()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False,
              callbacks=[timer] + callbacks)
    cpu = time.thread_time() - cpu
    return time.perf_counter() - start, statistics.median(timer.times), cpu


def run_task(task, epochs, repeats, log_dir):
    name, build, x, y, batch_size = task
    weights = build().get_weights()
    makers = contenders(x, y, batch_size, log_dir)
    time_fit(build, weights, x, y, batch_size, 2, [])  # warm up TF itself
    times = {contender: [] for contender in makers}
    for _ in range(repeats):
        # Interleaved, so load changes on the machine hit every contender.
        for contender, make in makers.items():
            times[contender].append(time_fit(build, weights, x, y, batch_size, epochs, make())[:2])
    medians = {
        contender: tuple(statistics.median(column) for column in zip(*values))
        for contender, values in times.items()
    }
    # A round's fits run back to back, seconds apart: the ratio within a
    # round cancels the machine's slow and fast spells that hit both.
    paired = {
        contender: statistics.quantiles(
            [fit / reference[0] for (fit, _), reference in zip(values, times["none"])],
            n=4, method="inclusive",
        )
        for contender, values in times.items()
    }
    # The least disturbed fit of each (as the fastest block below).
    fastest = {contender: min(fit for fit, _ in values) for contender, values in times.items()}
    fastest = {contender: fit / fastest["none"] for contender, fit in fastest.items()}
    return name, medians, paired, fastest


class _KeepTrainFunction(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.function = self.model.train_function


def step_costs(task, blocks, calls=100):
    """Median microseconds per call of each contender's compiled step."""
    name, build, x, y, batch_size = task
    functions = {}
    for contender, make in contenders(x, y, batch_size, None).items():
        if contender in ("tensorboard_hist", "naive_extra_pass"):
            continue  # their cost is outside the compiled step
        model = build()
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        keep = _KeepTrainFunction()
        model.fit(x[: 4 * batch_size], y[: 4 * batch_size], batch_size=batch_size, epochs=1,
                  verbose=0, callbacks=[keep] + make())
        functions[contender] = keep.function
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=True).repeat()
    iterators = {contender: iter(data) for contender in functions}
    for contender, function in functions.items():
        for _ in range(calls // 2):  # warm up
            function(iterators[contender])
    times = {contender: [] for contender in functions}
    for _ in range(blocks):
        for contender, function in functions.items():
            iterator, start = iterators[contender], time.perf_counter()
            for _ in range(calls):
                function(iterator)
            times[contender].append((time.perf_counter() - start) / calls * 1e6)
    medians = {contender: statistics.median(values) for contender, values in times.items()}
    fastest = {contender: min(values) for contender, values in times.items()}
    return name, medians, fastest


class _FirstBatchClock(keras.callbacks.Callback):
    """The main thread's CPU seconds in the fit's first batch."""

    def on_train_begin(self, logs=None):
        self.seconds = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.thread_time()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is None:
            self.seconds = time.thread_time() - self._start


class _TraceClock:
    """The main thread's CPU seconds spent tracing `tf.function`s, inner
    functions (`Case` branches) counted once, in their outer trace. Wraps
    TF's private tracing entry point: a measurement, not an API."""

    def __init__(self):
        from tensorflow.python.eager.polymorphic_function import tracing_compilation

        self._module, self._depth, self.seconds = tracing_compilation, 0, 0.0

    def __enter__(self):
        original = self._original = self._module.trace_function

        def timed(*args, **kwargs):
            self._depth += 1
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.seconds += time.thread_time() - start

        self._module.trace_function = timed
        return self

    def __exit__(self, *exc):
        self._module.trace_function = self._original


def first_step_costs(task, repeats):
    """Medians over the repeats of a one-step fit per contender (two epochs
    of one batch): what is paid once per fit (tracing the step, graph
    optimization, the first run, the callbacks' set-up), besides the step
    itself. Returns `{contender: {part: seconds}}`: the wall time, and the
    main thread's CPU time (where tracing, graph optimization and the
    callbacks run; far steadier than the wall time on a shared machine)
    split into tracing, the rest of the first batch (optimizing and
    instantiating the traced graph, the first run) and the rest of the
    fit (Keras's set-up and loop, the callbacks)."""
    name, build, x, y, batch_size = task
    weights = build().get_weights()
    makers = {c: m for c, m in contenders(x, y, batch_size, None).items()
              if c in ("none", "defaults", "gradient_norms_every_step",
                       "defaults_in_step", "gradient_norms_in_step")}
    times = {contender: [] for contender in makers}
    for round_ in range(repeats + 1):
        for contender, make in makers.items():
            first_batch = _FirstBatchClock()
            with _TraceClock() as trace:
                seconds, _, cpu = time_fit(build, weights, x[:batch_size], y[:batch_size],
                                           batch_size, 2, [first_batch] + make())
            if round_:  # the first round warms TF up
                times[contender].append({
                    "wall": seconds, "cpu": cpu, "trace": trace.seconds,
                    "first_run": first_batch.seconds - trace.seconds,
                    "rest": cpu - first_batch.seconds,
                })
    return name, {
        contender: {part: statistics.median(r[part] for r in rows) for part in rows[0]}
        for contender, rows in times.items()
    }


class _HostRecordTimer(keras.callbacks.Callback):
    """Times the host's share of a gradient record (made between batches
    when each batch is one step): the record itself and reading the
    weights the batch before it. Uses the monitors' internals; a measurement, not an API."""

    def on_train_end(self, logs=None):
        from keras_recipes.callbacks import _instrumentation

        recorder = _instrumentation._CORES[id(self.model)]._recorder
        self.kernels = len(recorder._host_weights())
        samples = {"read": [], "record": []}
        for _ in range(200):  # a record uses (and drops) the weights read before it
            for label, work in (("read", recorder.host_read_weights),
                                ("record", lambda: recorder.host_gradient_part(0))):
                start = time.perf_counter()
                work()
                samples[label].append(time.perf_counter() - start)
        self.times = {label: statistics.median(values[20:]) * 1e6 for label, values in samples.items()}


def host_record_costs(task):
    name, build, x, y, batch_size = task
    model = build()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    timer = _HostRecordTimer()
    # The timer ends before the monitor detaches (callbacks end in order).
    model.fit(x[: 4 * batch_size], y[: 4 * batch_size], batch_size=batch_size, epochs=1,
              verbose=0, callbacks=[timer, GradientMonitor()])
    return name, timer.kernels, timer.times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (fewer epochs)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per contender (>= 5)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (>= 2; default 10, 3 with --quick)")
    parser.add_argument("--in-step", action="store_true",
                        help="also time the monitors with their gradient records made inside the step")
    parser.add_argument("--models", nargs="+", choices=("mlp", "cnn"), default=("mlp", "cnn"),
                        help="the models to run (default: both)")
    parser.add_argument("--contenders", nargs="+", default=None,
                        help="run only these contenders besides 'none' (default: all)")
    parser.add_argument("--fits-only", action="store_true",
                        help="time the whole fits only (skip the step, one-step fit and host sections)")
    args = parser.parse_args(argv)
    global IN_STEP, ONLY, FITS_ONLY
    IN_STEP, FITS_ONLY = args.in_step, args.fits_only
    if args.contenders is not None:
        known = set(contenders(None, None, 1, None))
        unknown = sorted(set(args.contenders) - known)
        if unknown:
            parser.error(f"unknown contenders: {unknown}. Expected some of {sorted(known)}. "
                         f"Received: --contenders {' '.join(args.contenders)}")
        ONLY = set(args.contenders)
    repeats = max(args.repeats, 5)
    epochs = args.epochs or (3 if args.quick else 10)
    if epochs < 2:
        parser.error(f"--epochs must be at least 2 (the epoch column times the epochs after the first). Received: {epochs}")
    with tempfile.TemporaryDirectory() as log_dir:
        results = [run_task(task, epochs, repeats, log_dir) for task in tasks(args.models)]
    print(f"median of {repeats} repeats, {epochs} epochs per fit; ratio to 'none' "
          "(of the medians; 'paired': the median of each round's ratio)")
    header = "".join(f"{name + ' fit':>22}{'paired':>9}{name + ' epoch':>24}" for name, *_ in results)
    print(f"{'contender':<26}{header}")
    worst_default = 0.0
    for contender in results[0][1]:
        cells = []
        for _, medians, paired, _ in results:
            for column, width in ((0, 22), (1, 24)):
                ratio = medians[contender][column] / medians["none"][column]
                cells.append(f"{medians[contender][column]:7.3f}s x{ratio:6.3f}".rjust(width))
                if column == 0:
                    cells.append(f"x{paired[contender][1]:6.3f}".rjust(9))
            if contender == "defaults":
                worst_default = max(worst_default, medians[contender][0] / medians["none"][0])
        print(f"{contender:<26}" + "".join(cells))
    print("\nwhole fit: the rounds' own ratios, quartiles 25% / median / 75%; "
          "then the fastest fit's ratio to the fastest 'none'")
    for contender in results[0][1]:
        cells = "".join(f"  {name} " + " / ".join(f"x{q:.3f}" for q in paired[contender])
                        + f"  fastest x{fastest[contender]:.3f}"
                        for name, _, paired, fastest in results)
        print(f"{contender:<26}{cells}")
    if FITS_ONLY:
        if "defaults" in results[0][1]:
            print(f"overhead_default={worst_default:.3f}")
        return 0
    print(f"\ncompiled step alone, median of {4 * repeats} blocks of 100 calls; ratio to 'none'")
    steps = {}
    for task in tasks(args.models):
        name, costs, fastest = step_costs(task, blocks=4 * repeats)
        steps[name] = (epochs * -(-len(task[2]) // task[4]), costs)
        cells = "".join(f"  {c} {us:7.1f} us x{us / costs['none']:.3f}" for c, us in costs.items())
        print(f"{name:<12}{cells}")
        # The fastest block is the least disturbed by other work on the machine.
        cells = "".join(f"  {c} {us:7.1f} us x{us / fastest['none']:.3f}" for c, us in fastest.items())
        print(f"{'  fastest':<12}{cells}")
    print(f"\none-step fits (2 epochs of one batch: the cost paid once per fit), median of {repeats}; "
          "wall time, then the main thread's CPU time split into tracing, the rest of the first "
          "batch (graph optimization, instantiation, the run) and the rest of the fit; "
          "extra ms over 'none' in brackets")
    for task in tasks(args.models):
        name, parts = first_step_costs(task, repeats)
        for contender, values in parts.items():
            cells = "".join(
                f"  {part} {1e3 * t:6.1f} (+{1e3 * (t - parts['none'][part]):5.1f})"
                for part, t in values.items()
            )
            print(f"{name:<12}{contender:<27}{cells}")
    print("\nhost work per gradient record (GradientMonitor, one step per batch), median of 180")
    for task in tasks(args.models):
        name, kernels, times = host_record_costs(task)
        print(f"{name:<12}  {kernels} kernels: record {times['record']:6.1f} us, "
              f"reading the weights the batch before {times['read']:6.1f} us")
    print("\nsplit of each fit's overhead: per step (compiled step's extra us x steps) and "
          "the rest (once per fit: tracing, variables; and the callbacks' per-batch Python)")
    for name, medians, *_ in results:
        count, costs = steps[name]
        for contender, us in costs.items():
            if contender == "none":
                continue
            extra, step_us = medians[contender][0] - medians["none"][0], us - costs["none"]
            per_step = step_us * count / 1e6
            print(f"{name:<12}{contender:<27} fit +{extra * 1e3:6.0f} ms = {count} steps x "
                  f"{step_us:+6.1f} us ({per_step * 1e3:+5.0f} ms) + rest {1e3 * (extra - per_step):+5.0f} ms")
    print(f"overhead_default={worst_default:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
