"""Where `ActivationStats`' once-per-fit cost goes, side by side in one process.

`bench/monitor_overhead.py` measures what the monitors add to a one-step fit
(two epochs of one batch: tracing the step, optimizing and instantiating its
graph, the first run, the callbacks' set-up). This script splits
`ActivationStats`' part of it on the same MLP on digits, with one-step fits
of:

- `none`: no callback (the reference);
- `every_100`: `ActivationStats()` (its default: a `Case` op picks the
  statistics branch one step in 100);
- `every_step`: `ActivationStats(every_n_batches=1)` (the statistics run at
  every step, no `Case`);
- `every_100_zeros` and `every_step_zeros`: the same with the statistics
  replaced by a zero vector of their size (what is left is the
  instrumentation: the captures, the counter, the variables, the `Case`).

each with TF's graph optimizer (grappler) on and then off (off only to
measure: `disable_meta_optimizer`, restored after). Prints the median extra
milliseconds over `none` of each (median of the repeats, contenders
interleaved), so: statistics ops = every_100 - every_100_zeros; the `Case`
= every_100_zeros - every_step_zeros; graph optimization = on - off.

The zero vector is put in place of `_statistics.stacked_statistics` for
those contenders only: a measurement, not an API.

Usage: python bench/first_step_parts.py [--repeats N]
"""

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402

import monitor_overhead  # noqa: E402
from keras_recipes.callbacks import ActivationStats  # noqa: E402
from keras_recipes.callbacks import _statistics  # noqa: E402

_REAL = _statistics.stacked_statistics


def _zeros(tensors, activations, bins, unit_axes=None):
    return tf.zeros([len(tensors) * _statistics.statistics_size(bins)])


CONTENDERS = {
    "none": (lambda: [], False),
    "every_100": (lambda: [ActivationStats()], False),
    "every_step": (lambda: [ActivationStats(every_n_batches=1)], False),
    "every_100_zeros": (lambda: [ActivationStats()], True),
    "every_step_zeros": (lambda: [ActivationStats(every_n_batches=1)], True),
}


def one_step_fits(task, repeats):
    """Median seconds of a one-step fit per contender (the first round warms up)."""
    _, build, x, y, batch_size = task
    weights = build().get_weights()
    times = {contender: [] for contender in CONTENDERS}
    for round_ in range(repeats + 1):
        for contender, (make, zeros) in CONTENDERS.items():
            _statistics.stacked_statistics = _zeros if zeros else _REAL
            try:
                seconds, _, _ = monitor_overhead.time_fit(
                    build, weights, x[:batch_size], y[:batch_size], batch_size, 2, make())
            finally:
                _statistics.stacked_statistics = _REAL
            if round_:
                times[contender].append(seconds)
    return {contender: statistics.median(values) for contender, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="repeats per contender (>= 5)")
    args = parser.parse_args(argv)
    repeats = max(args.repeats, 5)
    task = monitor_overhead.mlp_task()
    rows = {}
    for optimizer_on in (True, False):
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": not optimizer_on})
        try:
            rows[optimizer_on] = one_step_fits(task, repeats)
        finally:
            tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    print(f"one-step fits, MLP on digits, median of {repeats}: ms, and extra ms over 'none'")
    print(f"{'contender':<20}{'graph optimizer on':>26}{'off':>22}")
    for contender in CONTENDERS:
        cells = "".join(
            f"{1e3 * rows[on][contender]:9.1f} ms (+{1e3 * (rows[on][contender] - rows[on]['none']):5.1f})"
            .rjust(width) for on, width in ((True, 26), (False, 22))
        )
        print(f"{contender:<20}{cells}")
    on = {c: 1e3 * (t - rows[True]["none"]) for c, t in rows[True].items()}
    print(f"split (optimizer on): statistics ops {on['every_100'] - on['every_100_zeros']:+.1f} ms, "
          f"Case {on['every_100_zeros'] - on['every_step_zeros']:+.1f} ms, "
          f"the rest of the instrumentation {on['every_step_zeros']:+.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
