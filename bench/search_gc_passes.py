"""What freezing the older heap saves a search, side by side in one process.

keras-tuner runs `keras.backend.clear_session()` and `gc.collect()` before
every trial: two full passes of the garbage collector over the whole heap.
`CoarseToFineSearch.search` and `rerun_best` leave the objects that exist
when they start out of those passes (`gc.freeze`, undone at the end). This
script runs the same search on digits (an MLP, 300 training examples) with
that freeze (`frozen`) and without it (`unfrozen`: the freeze replaced by a
no-op for that contender only, a measurement, not an API), interleaved, and
prints the median wall time of each, their ratio, and the time of one full
`gc.collect()` with and without the freeze.

Usage: python bench/search_gc_passes.py [--repeats N] [--trials N]
"""

import argparse
import contextlib
import gc
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
# Loaded as in a user's session (the heap the gc passes walk); not used here.
import matplotlib  # noqa: E402, F401
import pandas  # noqa: E402, F401
from sklearn.datasets import load_digits  # noqa: E402

from keras_recipes.tuning import CoarseToFineSearch, _graph_release, mlp_hypermodel  # noqa: E402


def _one_pass(frozen):
    if frozen:
        gc.freeze()
    try:
        start = time.perf_counter()
        gc.collect()
        return time.perf_counter() - start
    finally:
        if frozen:
            gc.unfreeze()


def _search(trials, data, directory):
    x, y, x_val, y_val = data
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(16,))
    tuner = CoarseToFineSearch(hypermodel, "val_accuracy", coarse_trials=trials - trials // 3,
                               fine_trials=trials // 3, coarse_epochs=1, fine_epochs=1, top_k=2,
                               seed=5, directory=directory, progress=False)
    start = time.perf_counter()
    tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args()
    digits = load_digits()
    x, y = (digits.data / 16).astype("float32"), digits.target
    data = x[:300], y[:300], x[1500:], y[1500:]
    freeze = _graph_release.frozen_heap
    times = {"frozen": [], "unfrozen": []}
    with tempfile.TemporaryDirectory() as root:
        _search(3, data, os.path.join(root, "warm-up"))
        for repeat in range(args.repeats):
            for name in times:
                _graph_release.frozen_heap = freeze if name == "frozen" else contextlib.nullcontext
                try:
                    directory = os.path.join(root, f"{name}-{repeat}")
                    times[name].append(_search(args.trials, data, directory))
                finally:
                    _graph_release.frozen_heap = freeze
                keras.backend.clear_session()
    passes = {name: statistics.median(_one_pass(name == "frozen") for _ in range(5))
              for name in ("unfrozen", "frozen")}
    print(f"heap: {len(gc.get_objects())} objects; one full gc.collect(): "
          f"{passes['unfrozen'] * 1e3:.1f} ms, frozen {passes['frozen'] * 1e3:.3f} ms")
    for name, values in times.items():
        print(f"{name:>9}: {args.trials}-trial search, median {statistics.median(values):.2f} s "
              f"of {len(values)} ({', '.join(f'{v:.2f}' for v in values)})")
    ratio = statistics.median(times["frozen"]) / statistics.median(times["unfrozen"])
    print(f"search_time_ratio_frozen_to_unfrozen={ratio:.3f}")


if __name__ == "__main__":
    main()
