"""A tiny coarse-to-fine search run in subprocesses by the resume and distributed tests.

Usage: python search_script.py DIRECTORY [--slow] [--die-once MARKER] [--late SECONDS]
    [--die-after-search MARKER] [--gone-chief SECONDS]
--slow makes each trial take a while (so a test can kill the search mid-round);
--die-once makes worker0 kill itself (SIGKILL) in its first trial, once;
--late makes worker1 wait SECONDS before it first calls the chief;
--die-after-search makes worker0, once, wait after its search until the chief
has closed its port, then exit with status 1, and the chief wait 5 s after its
search (so worker0 is restarted after the search has ended, before the chief
process exits);
--gone-chief sets how long a worker waits for a chief it cannot reach once the
directory says the search is over.
"""

import os
import signal
import socket
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_recipes.tuning import CoarseToFineSearch, _chief  # noqa: E402


def _option(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def _wait_for_chief_to_leave(timeout=60):
    address = (os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=1).close()
        except OSError:
            return
        time.sleep(0.1)


def main(argv):
    directory, slow = argv[0], "--slow" in argv
    marker = _option(argv, "--die-once")
    end_marker = _option(argv, "--die-after-search")
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
    if "--gone-chief" in argv:
        _chief.GONE_CHIEF_SECONDS = float(_option(argv, "--gone-chief"))
    if tuner_id == "worker1" and "--late" in argv:
        time.sleep(float(_option(argv, "--late")))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")

    def build(hp):
        lr = hp.Float("learning_rate", 1e-4, 1.0, sampling="log")
        if slow:
            time.sleep(0.5)
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
    if end_marker and tuner_id == "worker0" and not os.path.exists(end_marker):
        open(end_marker, "w").close()
        _wait_for_chief_to_leave()
        sys.exit(1)
    if end_marker and tuner_id == "chief":
        time.sleep(5)


if __name__ == "__main__":
    main(sys.argv[1:])
