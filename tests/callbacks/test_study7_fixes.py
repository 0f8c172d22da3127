import keras
import numpy as np
from keras import layers
from sklearn.datasets import load_digits

from keras_recipes.callbacks import TrainingDoctor, _input_scale_rules


def test_a_recurrent_first_layer_is_not_read_for_the_inputs_scale():
    # Standardized sequences; the recurrence (gain 1.5 over 30 steps), not
    # the inputs, starts the ReLU SimpleRNN's outputs hundreds of times above 1.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((600, 30, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")
    model = keras.Sequential([
        keras.Input((30, 1)),
        layers.SimpleRNN(32, activation="relu", name="rnn",
                         recurrent_initializer=keras.initializers.Orthogonal(gain=1.5)),
        layers.Dense(1, activation="sigmoid"),
    ])
    assert _input_scale_rules.input_gains(model) == {"rnn": None}
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    doctor = TrainingDoctor(y=y[:500])
    model.fit(x[:500], y[:500], validation_data=(x[500:], y[500:]), epochs=3, batch_size=50,
              verbose=0, callbacks=[doctor])
    table = doctor.activation_stats.to_dataframe()
    first = table[table["step"] == table["step"].min()].iloc[0]
    assert first["layer"] == "rnn" and np.hypot(first["mean"], first["std"]) > 20.0
    assert all(f.kind != "unscaled_inputs" for f in doctor.findings), doctor.report()
    assert all("standardize the inputs" not in f.advice for f in doctor.findings), doctor.report()
    assert all("first_layer_rms" not in f.evidence for f in doctor.findings), doctor.report()


def test_recurrent_layers_inside_wrappers_are_recurrent():
    assert _input_scale_rules.is_recurrent(layers.Bidirectional(layers.GRU(4)))
    assert _input_scale_rules.is_recurrent(layers.TimeDistributed(layers.LSTM(4)))
    assert _input_scale_rules.is_recurrent(layers.RNN(layers.SimpleRNNCell(4)))
    assert not _input_scale_rules.is_recurrent(layers.TimeDistributed(layers.Dense(4)))
    assert not _input_scale_rules.is_recurrent(layers.Conv1D(4, 3))


def test_a_schedule_decayed_to_zero_explains_the_stalled_curve():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    model = keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    # About 3e-8 after the first epoch's 19 steps.
    rate = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=20, decay_rate=0.01)
    model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(y=y[:1200])
    history = model.fit(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]), epochs=12,
                        batch_size=64, verbose=0, callbacks=[doctor]).history
    assert history["loss"][-1] > 0.95 * history["loss"][1]  # stalled after the first epoch
    kinds = [f.kind for f in doctor.findings]
    assert "learning_rate_too_low" in kinds, doctor.report()
    low = doctor.findings[kinds.index("learning_rate_too_low")]
    assert "schedule" in low.advice
    assert "loss_not_decreasing" in low.evidence["explains"]
    assert "loss_not_decreasing" not in kinds, doctor.report()
    assert all("Raise the learning rate" not in f.advice for f in doctor.findings), doctor.report()
