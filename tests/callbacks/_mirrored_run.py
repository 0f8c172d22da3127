"""Run in a fresh process: two logical CPUs must be configured before TF starts.

Prints one JSON line: the monitors' numbers under MirroredStrategy and a
manual GradientTape on the full batch.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_recipes.callbacks import ActivationStats, GradientMonitor  # noqa: E402


def build():
    return keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(8, activation="relu", name="hidden"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


def build_embedding():
    return keras.Sequential([
        keras.Input((4,), dtype="int32"),
        keras.layers.Embedding(20, 3, name="emb"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


def embedding_norms(strategy, rng):
    """The monitor's and a manual tape's embedding gradient norms at step 0.
    Each replica's sparse gradient touches a different set of rows."""
    tokens = rng.integers(0, 20, size=(32, 4)).astype("int32")
    labels = rng.integers(0, 3, size=(32,))
    with strategy.scope():
        model = build_embedding()
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    reference = build_embedding()
    reference.set_weights(model.get_weights())
    monitor = GradientMonitor(every_n_batches=1)
    model.fit(tokens, labels, batch_size=32, epochs=1, shuffle=False, verbose=0, callbacks=[monitor])
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(labels, reference(tokens, training=True))
    grads = tape.gradient(loss, [reference.layers[0].embeddings, reference.layers[-1].kernel])
    first = monitor.to_dataframe().query("step == 0").set_index("layer")["grad_norm"]
    halves = [np.unique(tokens[:16]).size, np.unique(tokens[16:]).size]
    return {
        "embedding_monitor": [float(first["emb"]), float(first["out"])],
        "embedding_manual": [float(tf.norm(tf.convert_to_tensor(g))) for g in grads],
        "embedding_rows_per_replica": halves,
    }


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype("float32")
    y = rng.integers(0, 3, size=(32,))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = build()
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    initial = model.get_weights()
    stats, monitor = ActivationStats(every_n_batches=1), GradientMonitor(every_n_batches=1)
    history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[stats, monitor])
    reference = build()
    reference.set_weights(initial)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, reference(x, training=True))
    grads = tape.gradient(loss, [reference.layers[0].kernel, reference.layers[1].kernel])
    first = monitor.to_dataframe().query("step == 0").set_index("layer")["grad_norm"]
    # Records every other step (made in the step under a strategy): the update
    # is that step's alone.
    with strategy.scope():
        sparse = build()
        sparse.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    sparse.set_weights(initial)
    every_other = GradientMonitor(every_n_batches=2)
    sparse.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[every_other])
    table = every_other.to_dataframe()
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "history": sorted(history.history),
        "activation_layers": sorted(set(stats.to_dataframe()["layer"])),
        "activation_steps": sorted(set(int(s) for s in stats.to_dataframe()["step"])),
        "monitor": [float(first["hidden"]), float(first["out"])],
        "manual": [float(tf.norm(g)) for g in grads],
        "patched": "train_step" in vars(model) or "call" in vars(model.layers[0]),
        "host_steps": sorted(set(int(s) for s in table["step"])),
        "host_update": (table["update_ratio"] * table["weight_norm"]).tolist(),
        "host_sgd_update": (0.1 * table["grad_norm"]).tolist(),
        "host_first_weight_norms": table.query("step == 0")["weight_norm"].tolist(),
        "initial_weight_norms": [float(np.linalg.norm(w)) for w in initial[::2]],
        **embedding_norms(strategy, rng),
    }))


if __name__ == "__main__":
    sys.exit(main())
