"""A training loss that spikes and comes back (study 5's M05)."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from keras_recipes.callbacks import TrainingDoctor
from keras_recipes.callbacks._diagnosis import diagnose
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds


def _floats(text):
    return [float(value) for value in text.split()]


# Two heads on a Dense(512) trunk, Adam 3e-3, batch 16, 300 rows (measured:
# epochs 14-33 and 50-69 of 80, spikes at epochs 25 and 61).
M05 = pd.DataFrame({
    "loss": _floats("0.111 0.097 0.0837 0.0705 0.0566 0.0549 0.06 0.101 0.108 0.118 0.296 0.445 "
                    "0.192 0.134 0.0971 0.0671 0.0693 0.0451 0.0587 0.0456 "
                    "0.0449 0.0384 0.0356 0.068 0.0457 0.104 0.0581 0.0923 0.0841 0.139 0.167 "
                    "0.374 0.495 0.295 0.167 0.121 0.196 0.228 0.188 0.158"),
    "val_loss": _floats("0.394 0.39 0.362 0.355 0.354 0.383 0.412 0.387 0.511 0.656 0.715 0.534 "
                        "0.432 0.392 0.36 0.354 0.335 0.368 0.319 0.353 "
                        "0.46 0.456 0.601 0.374 0.759 0.445 0.721 0.63 0.819 0.84 1.06 0.732 "
                        "0.683 0.483 0.375 0.427 0.44 0.503 0.555 0.365")})


def test_spikes_are_read_on_the_training_loss_and_confirmed_by_validation():
    t = resolve_thresholds()
    (found,) = diagnose(M05, None, None, t, initial_loss=2.72)
    assert (found.kind, found.evidence["spikes"], found.evidence["spike_epochs"]) == (
        "oscillating_loss", 2, [11, 31])
    assert found.evidence["largest_spike_factor"] == pytest.approx(0.495 / 0.0356, rel=1e-3)
    assert "Clip the gradients" in found.advice
    # A validation loss that never jumps does not confirm them.
    flat = M05.assign(val_loss=np.linspace(0.40, 0.33, len(M05)))
    assert "oscillating_loss" not in [f.kind for f in diagnose(flat, None, None, t, initial_loss=2.72)]


def test_a_loss_that_spikes_and_comes_back_is_an_oscillating_loss():
    # Adam at 1e-2 with one epoch at 0.3 (a restart far too high): the loss
    # goes from 0.20 to 0.87 and back to 0.17; too few jumps to oscillate,
    # no divergence at the end.
    data = load_digits()
    x, y = (data.data[:600] / 16.0).astype("float32"), data.target[:600]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="tanh"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(y=y[:480], every_n_batches=4)
    restart = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.3 if epoch == 4 else 1e-2)
    model.fit(x[:480], y[:480], validation_data=(x[480:], y[480:]), epochs=7, batch_size=32,
              verbose=0, callbacks=[doctor, restart])
    loss = doctor.curves()["loss"]
    assert loss.iloc[4] > 3 * loss.iloc[3] and loss.iloc[-1] < loss.iloc[3]
    (finding,) = [f for f in doctor.findings if f.kind == "oscillating_loss"]
    assert (finding.epoch, finding.evidence["spike_epochs"]) == (4, [4])
    assert finding.evidence["largest_spike_factor"] > 3
    assert "Clip the gradients" in finding.advice
