"""JSON state files written atomically, so `kill -9` never leaves half a file.

keras-tuner writes `oracle.json`, `trial.json` and `<tuner_id>.json` in place;
a search killed mid-write could not be resumed. Writing a temporary file and
renaming it over the old one keeps either the old or the new state.
"""

import json
import os

import tensorflow as tf


def save_json(path, state):
    """Writes `state` as JSON to `path` atomically; returns the JSON text."""
    text = json.dumps(state)
    temporary = f"{path}.tmp-{os.getpid()}"
    with tf.io.gfile.GFile(temporary, "w") as file:
        file.write(text)
    tf.io.gfile.rename(temporary, path, overwrite=True)
    return text
