"""A tiny coarse-to-fine search run in subprocesses by the resume and distributed tests.

Usage: python search_script.py DIRECTORY [--slow] [--die-once MARKER]
--slow makes each trial take a while (so a test can kill the search mid-round);
--die-once makes worker0 kill itself (SIGKILL) in its first trial, once.
"""

import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_recipes.tuning import CoarseToFineSearch  # noqa: E402


def main(argv):
    directory, slow = argv[0], "--slow" in argv
    marker = argv[argv.index("--die-once") + 1] if "--die-once" in argv else None
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")

    def build(hp):
        lr = hp.Float("learning_rate", 1e-4, 1.0, sampling="log")
        if slow:
            time.sleep(0.5)
        tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
        in_trial = "coarse_to_fine/round" in hp.values
        if marker and tuner_id == "worker0" and in_trial and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    tuner = CoarseToFineSearch(
        build, "val_accuracy", coarse_trials=4, fine_trials=3, coarse_epochs=1,
        fine_epochs=2, top_k=2, seed=7, directory=directory, project_name="search",
    )
    tuner.search(x, y, validation_data=(x, y), batch_size=64)


if __name__ == "__main__":
    main(sys.argv[1:])
