"""What `build_for_training` saves a first `fit`, side by side in one process.

Keras on TensorFlow makes the optimizer's, the compiled metrics' and an
unbuilt model's variables inside the first trace of the training step, and
TensorFlow then traces the step again. `build_for_training(model, x, y)`
makes them first. Contenders, interleaved, each from a collected heap (a
`gc.collect()` before each timed run, so no contender pays for another's
garbage):

- `keras`: `model.fit` alone (the step traced twice);
- `built`: `build_for_training` then `model.fit` (its time included).

Timed: a one-step fit (two epochs of one batch) and a 10-epoch fit of an
MLP on scikit-learn's digits, compiled with `metrics=["accuracy"]` and
validated each epoch; and a 6-trial `CoarseToFineSearch` on 300 digits
(`keras`: its models built by Keras, the tuner's call to
`build_before_fit` replaced by a no-op for that contender only: a
measurement, not an API). Prints the median seconds of each, their ratio
(`built / keras`) and the training-step traces each made.

Usage: python bench/first_fit_traces.py [--repeats N]
"""

import argparse
import gc
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_recipes.recipes import build_for_training  # noqa: E402
from keras_recipes.tuning import CoarseToFineSearch, _single_trace, mlp_hypermodel  # noqa: E402


class TraceCounter(keras.layers.Dense):
    """A Dense layer that counts the training-step traces it appears in."""

    traces = 0

    def call(self, inputs, training=None):
        if training and not tf.executing_eagerly():
            TraceCounter.traces += 1
        return super().call(inputs)


def _mlp():
    model = keras.Sequential([
        keras.Input((64,)), TraceCounter(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _fit(contender, data, epochs, examples):
    x, y, x_val, y_val = data
    x, y = x[:examples], y[:examples]
    keras.utils.set_random_seed(0)
    model = _mlp()
    gc.collect()
    TraceCounter.traces = 0
    start = time.perf_counter()
    if contender == "built":
        build_for_training(model, x, y)
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=False,
              validation_data=(x_val, y_val))
    return time.perf_counter() - start, TraceCounter.traces


def _search(contender, data, directory):
    x, y, x_val, y_val = data
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(16,))
    tuner = CoarseToFineSearch(hypermodel, "val_accuracy", coarse_trials=4, fine_trials=2,
                               coarse_epochs=1, fine_epochs=1, top_k=2, seed=5,
                               directory=directory, progress=False)
    build = _single_trace.build_before_fit
    if contender == "keras":
        _single_trace.build_before_fit = lambda *args: None
    gc.collect()
    try:
        start = time.perf_counter()
        tuner.search(x[:300], y[:300], validation_data=(x_val, y_val), batch_size=64)
        return time.perf_counter() - start, None
    finally:
        _single_trace.build_before_fit = build


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    digits = load_digits()
    x, y = (digits.data / 16).astype("float32"), digits.target
    data = x[:1500], y[:1500], x[1500:], y[1500:]
    with tempfile.TemporaryDirectory() as root:
        tasks = {
            "one-step fit": lambda c, r: _fit(c, data, 2, 32),
            "10-epoch fit": lambda c, r: _fit(c, data, 10, 1500),
            "6-trial search": lambda c, r: _search(c, data, os.path.join(root, f"{c}-{r}")),
        }
        _fit("keras", data, 1, 32)  # warms TF up
        print(f"median of {args.repeats}, interleaved; traces of the training step in brackets")
        print(f"{'task':<16}{'keras':>16}{'built':>16}{'built / keras':>16}")
        for task, run in tasks.items():
            times = {"keras": [], "built": []}
            traces = {}
            for repeat in range(args.repeats):
                for contender in times:
                    seconds, traces[contender] = run(contender, repeat)
                    times[contender].append(seconds)
                    keras.backend.clear_session()
            medians = {c: statistics.median(t) for c, t in times.items()}
            cells = [f"{medians[c]:.3f} s" + (f" [{traces[c]}]" if traces[c] is not None else "")
                     for c in times]
            print(f"{task:<16}{cells[0]:>16}{cells[1]:>16}{medians['built'] / medians['keras']:>16.3f}")


if __name__ == "__main__":
    main()
