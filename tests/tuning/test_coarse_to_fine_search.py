"""Tiny real searches: a few trials of 1-2 epochs on a few hundred digits."""


import gc
import math

import keras
import keras_tuner
import numpy as np
import pytest

from keras_recipes.tuning import CoarseToFineSearch, mlp_hypermodel
from keras_recipes.tuning import _rerun


@pytest.fixture
def small_digits(digits):
    x_train, x_test, y_train, y_test = digits
    return x_train[:300], y_train[:300], x_test[:150], y_test[:150]


def _search(tmp_path, hypermodel, **kwargs):
    settings = dict(coarse_trials=4, fine_trials=2, coarse_epochs=1, fine_epochs=2, top_k=2,
                    seed=5, directory=str(tmp_path), progress=False)
    return CoarseToFineSearch(hypermodel, "val_accuracy", **{**settings, **kwargs})


def test_a_tiny_search_on_the_mlp_recipe(tmp_path, small_digits, capsys):
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(16,))
    tuner = _search(tmp_path, hypermodel, progress=True)
    tuner.search(x, y, validation_data=(x_val, y_val), batch_size=16)
    assert capsys.readouterr().out.count("(round ") == 6  # one line per trial

    results = tuner.results_dataframe()
    assert list(results.columns) == ["trial_id", "round", "status", "learning_rate", "l2",
                                     "score", "best_epoch", "epochs_trained", "seconds"]
    assert results["round"].tolist() == [1, 1, 1, 1, 2, 2]
    assert set(results["status"]) <= {"COMPLETED", "STOPPED_EARLY"}
    assert (results["epochs_trained"] == [1, 1, 1, 1, 2, 2]).all()
    assert results["score"].between(0, 1).all() and (results["seconds"] > 0).all()
    # 19 steps per epoch: far from converged, but well above chance (0.1).
    assert results["score"].max() > 0.5
    # Round 2 first re-trains round 1's best configuration.
    best = results[results["round"] == 1].sort_values("score").iloc[-1]
    promoted = results[results["round"] == 2].iloc[0]
    assert (promoted[["learning_rate", "l2"]] == best[["learning_rate", "l2"]]).all()
    # Per-epoch values reached the oracle (the path early stopping uses).
    curves = tuner.oracle._curves
    assert [len(curves[t]) for t in results["trial_id"]] == results["epochs_trained"].tolist()

    ranges = tuner.ranges()
    assert ranges["round"].tolist() == [1, 1, 2, 2]
    first, second = ranges[ranges["round"] == 1], ranges[ranges["round"] == 2]
    assert (second["min_value"].values >= first["min_value"].values).all()
    assert (second["max_value"].values <= first["max_value"].values).all()

    figures = tuner.summary(print_fn=lambda line: None)
    assert figures["trials"] == 6 and figures["infeasible_fraction"] == 0.0
    assert figures["best_score"] == pytest.approx(results["score"].max())

    rerun = tuner.rerun_best(x, y, validation_data=(x_val, y_val), n=1, seeds=[1, 2],
                             epochs=1, batch_size=64)
    assert rerun.loc[0, "runs"] == 2 and 0 <= rerun.loc[0, "mean"] <= 1
    assert rerun.loc[0, "std"] >= 0 and rerun.loc[0, "trial_id"] == figures["best_trial_id"]

    # The same call on the same directory reloads the finished search: nothing re-runs.
    again = _search(tmp_path, hypermodel)
    again.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    assert again.results_dataframe().equals(results)
    assert again.ranges().equals(ranges)


def _exploding(hp):
    # Steps this large overflow float32: the weights become inf, the loss NaN.
    learning_rate = hp.Float("learning_rate", 1e36, 1e38, sampling="log")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_diverged_trials_are_infeasible_and_never_abort(tmp_path, small_digits):
    x, y, x_val, y_val = small_digits
    tuner = _search(tmp_path, _exploding, coarse_trials=3, fine_trials=1, top_k=1)
    tuner.search(x, y, validation_data=(x_val, y_val), batch_size=32)  # 4 diverging trials
    results = tuner.results_dataframe()
    assert len(results) == 4 and (results["status"] == "INFEASIBLE").all()
    assert results["score"].isna().all()
    assert tuner.summary(print_fn=lambda line: None)["infeasible_fraction"] == 1.0


def test_a_missing_objective_stops_the_search_with_a_clear_error(tmp_path, small_digits):
    x, y, _, _ = small_digits
    tuner = _search(tmp_path, mlp_hypermodel((64,), 10, hidden_units=(8,)))
    with pytest.raises(keras_tuner.errors.FatalValueError, match="validation data"):
        tuner.search(x, y, batch_size=64)
    assert gc.get_freeze_count() == 0  # the heap frozen for the search is released


def test_the_heap_is_frozen_during_a_search_and_its_reruns_only(tmp_path, small_digits):
    # keras-tuner runs two full gc passes before each trial's build; the
    # objects older than the search are left out of them.
    x, y, x_val, y_val = small_digits
    seen = []

    def build(hp):
        seen.append(gc.get_freeze_count())
        lr = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    fit = dict(validation_data=(x_val, y_val), batch_size=64)
    assert gc.get_freeze_count() == 0
    tuner = _search(tmp_path, build, coarse_trials=2, fine_trials=1, fine_epochs=1)
    tuner.search(x, y, **fit)
    assert len(seen) >= 3 and all(seen[-3:])  # the 3 trials' builds
    assert gc.get_freeze_count() == 0
    del seen[:]
    tuner.rerun_best(x, y, n=1, seeds=[0], epochs=1, **fit)
    assert len(seen) == 1 and seen[0] > 0 and gc.get_freeze_count() == 0
    # A caller that froze objects itself keeps its freeze: nothing more is
    # frozen, nothing unfrozen (frozen objects freed by reference count leave it).
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        tuner.rerun_best(x, y, n=1, seeds=[0], epochs=1, **fit)
        assert 0.99 * frozen < seen[-1] <= frozen
        assert 0.99 * frozen < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_rerun_best_rejects_bad_seeds(tmp_path):
    tuner = _search(tmp_path, mlp_hypermodel((64,), 10, hidden_units=(8,)))
    with pytest.raises(ValueError, match="seeds"):
        tuner.rerun_best(np.zeros((4, 64)), np.zeros(4), seeds=[])
    with pytest.raises(ValueError, match="`n`"):
        tuner.rerun_best(np.zeros((4, 64)), np.zeros(4), n=0)
    with pytest.raises(ValueError, match=r"integers in \[0, 2\*\*32 - 1\]\. Received: seeds=\[0, -1\]"):
        tuner.rerun_best(np.zeros((4, 64)), np.zeros(4), seeds=[0, -1])


def test_keras_tuner_oracle_arguments_reach_the_oracle(tmp_path):
    tuner = _search(tmp_path, mlp_hypermodel((64,), 10, hidden_units=(8,)),
                    max_retries_per_trial=2, max_consecutive_failed_trials=4)
    assert tuner.oracle.max_retries_per_trial == 2
    assert tuner.oracle.max_consecutive_failed_trials == 4


def test_bad_search_settings_fail_at_construction(tmp_path):
    with pytest.raises(ValueError, match="sampling"):
        _search(tmp_path, mlp_hypermodel((64,), 10), sampling="sobol")


def test_memory_growth_is_set_on_every_visible_gpu():
    import tensorflow as tf

    from keras_recipes.tuning import _gpu

    gpus = tf.config.list_physical_devices("GPU")
    assert _gpu.enable_memory_growth() == len(gpus)
    assert all(tf.config.experimental.get_memory_growth(gpu) for gpu in gpus)


def test_the_same_seed_gives_the_same_search(tmp_path, small_digits):
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(8,))
    tables = []
    for name in ("first", "second"):
        tuner = _search(tmp_path, hypermodel, coarse_trials=2, fine_trials=1, top_k=1,
                        project_name=name)
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
        tables.append(tuner.results_dataframe()[["learning_rate", "l2", "score"]])
    assert tables[0].equals(tables[1])
    # The promoted trial repeats the best configuration with its own seed.
    assert tables[0]["score"].nunique() == 3


def _live_train_graphs():
    import gc

    from tensorflow.python.framework import func_graph

    gc.collect()
    return sum(
        isinstance(o, func_graph.FuncGraph) and o.name.startswith("one_step_on_data")
        for o in gc.get_objects()
    )


def test_trials_leave_no_train_graph_behind(tmp_path, small_digits):
    # TF keeps every graph that used a custom gradient (TF issue #97697), and
    # Keras' gradient all-reduce is one: keras-tuner's own tuners keep each
    # trial's train graph for the life of the process; ours do not.
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(16,))
    fit = dict(validation_data=(x_val, y_val), batch_size=64, verbose=0)

    before = _live_train_graphs()
    random_search = keras_tuner.RandomSearch(
        hypermodel, "val_accuracy", max_trials=2, seed=1, directory=str(tmp_path / "rs"))
    random_search.search(x, y, epochs=1, **fit)
    del random_search
    kept_by_keras_tuner = _live_train_graphs() - before
    assert kept_by_keras_tuner >= 2  # the upstream leak this works around

    before = _live_train_graphs()
    tuner = _search(tmp_path / "ours", hypermodel, coarse_trials=2, fine_trials=1, fine_epochs=1)
    tuner.search(x, y, **fit)
    tuner.rerun_best(x, y, n=1, seeds=[0], epochs=1, **fit)
    assert len(tuner.results_dataframe()) == 3
    del tuner
    assert _live_train_graphs() - before == 0


def test_rerun_best_retrains_distinct_configurations(tmp_path, small_digits):
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(8,))
    # Round 2's only trial re-trains round 1's best: 3 trials, 2 configurations.
    tuner = _search(tmp_path, hypermodel, coarse_trials=2, fine_trials=1, top_k=1)
    tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    # NumPy integer seeds are seeds like any other.
    rerun = tuner.rerun_best(x, y, validation_data=(x_val, y_val), n=3, seeds=np.arange(2),
                             epochs=1, batch_size=64)
    assert len(rerun) == 2
    assert len({(r.learning_rate, r.l2) for r in rerun.itertuples()}) == 2
    # Of the two trials of the promoted configuration, the better-ranked one is kept.
    ranked = [t.trial_id for t in tuner.oracle.ranked_trials()]
    dropped = ({"0", "1", "2"} - set(rerun["trial_id"])).pop()
    twin = tuner.oracle.trials[dropped].hyperparameters.values["learning_rate"]
    kept = rerun.loc[rerun["learning_rate"] == twin, "trial_id"].item()
    assert ranked.index(kept) < ranked.index(dropped)
    assert (rerun["std"] >= 0).all() and (rerun["runs"] == 2).all()


def test_the_seed_spread_is_the_sample_standard_deviation():
    assert _rerun.seed_spread([0.5, 0.7]) == pytest.approx(0.1 * 2**0.5)
    assert _rerun.seed_spread([0.5, 0.7, float("nan")]) == pytest.approx(0.1 * 2**0.5)
    assert math.isnan(_rerun.seed_spread([0.5]))


def test_a_resumed_search_keeps_its_saved_random_seed(tmp_path):
    hypermodel = mlp_hypermodel((64,), 10, hidden_units=(8,))
    first = _search(tmp_path, hypermodel, seed=None)
    first.save()
    for _ in range(3):  # a fresh random pick would differ from the saved seed
        resumed = _search(tmp_path, hypermodel, seed=None)
        assert resumed.oracle.seed == first.oracle.seed
        assert resumed._seed == first._seed == first.oracle.seed


class _EpochsPerFit(keras.callbacks.Callback):
    """Counts the epochs of each fit into a shared list (keras-tuner deep-copies callbacks)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def __deepcopy__(self, memo):
        return _EpochsPerFit(self.epochs)

    def on_train_begin(self, logs=None):
        self.epochs.append(0)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[-1] += 1


def test_a_trial_stopped_early_skips_its_other_executions(tmp_path, small_digits):
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-5, 1e-1), l2=(1e-6, 1e-2),
                                hidden_units=(16,))
    tuner = _search(tmp_path, hypermodel, coarse_trials=4, fine_trials=1, coarse_epochs=3,
                    rounds=1, seed=3, executions_per_trial=2)
    counter = _EpochsPerFit([])
    tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64, callbacks=[counter])
    results = tuner.results_dataframe()
    assert "STOPPED_EARLY" in set(results["status"])
    # Every fit had its grace epochs (a stop used to leak into the next
    # execution, which then ended after one epoch) ...
    assert min(counter.epochs) >= 2
    # ... and a trial stopped in its first execution ran no second one.
    assert len(counter.epochs) < 2 * len(results)
    completed = results[results["status"] == "COMPLETED"]
    assert (completed["epochs_trained"] == 3).all()


def test_a_resumed_search_refuses_another_objective_round_one_or_ranges(tmp_path, small_digits):
    x, y, x_val, y_val = small_digits
    hypermodel = mlp_hypermodel((64,), 10, learning_rate=(1e-3, 1e-1), hidden_units=(8,))
    settings = dict(coarse_trials=2, fine_trials=1, top_k=1, project_name="resumed")
    _search(tmp_path, hypermodel, **settings).search(
        x, y, validation_data=(x_val, y_val), batch_size=64)
    project = tmp_path / "resumed"
    files = sorted(p.name for p in project.iterdir())
    with pytest.raises(ValueError, match=r"was run with objective='val_accuracy' \(max\).*"
                                         r"Received: objective='val_loss' \(min\)"):
        CoarseToFineSearch(hypermodel, "val_loss", directory=str(tmp_path), progress=False,
                           **{**settings, "coarse_trials": 2})
    with pytest.raises(ValueError, match=r"coarse_trials=2.*overwrite=True.*Received: coarse_trials=3"):
        _search(tmp_path, hypermodel, **{**settings, "coarse_trials": 3})
    wider = mlp_hypermodel((64,), 10, learning_rate=(1e-4, 1e-1), hidden_units=(8,))
    tuner = _search(tmp_path, wider, **settings)
    with pytest.raises(ValueError, match=r"sampled learning_rate in \[0\.001, 0\.1\] \(log\).*"
                                         r"Received: learning_rate in \[0\.0001, 0\.1\] \(log\)"):
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    assert sorted(p.name for p in project.iterdir()) == files  # nothing written
    # The same search with a larger budget for its later rounds continues.
    more = _search(tmp_path, hypermodel, **{**settings, "fine_trials": 2})
    more.search(x, y, validation_data=(x_val, y_val), batch_size=64)
    assert len(more.results_dataframe()) == 4


def test_each_trial_and_rerun_traces_its_training_step_once(tmp_path, small_digits, trace_counter):
    def counted_model(hp):
        model = keras.Sequential([
            keras.Input((64,)), trace_counter(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
        model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    class OwnFit(keras_tuner.HyperModel):
        def build(self, hp):
            return counted_model(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, **kwargs)

    x, y, x_val, y_val = small_digits
    traces = {}
    for name, hypermodel in (("build function", counted_model), ("own fit", OwnFit())):
        tuner = _search(tmp_path / name.replace(" ", "_"), hypermodel, coarse_trials=2, fine_trials=1,
                        fine_epochs=1)
        trace_counter.traces = 0
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=32)
        searched = trace_counter.traces
        trace_counter.traces = 0
        reruns = tuner.rerun_best(x, y, validation_data=(x_val, y_val), batch_size=32, n=1, seeds=(0, 1))
        traces[name] = (searched, trace_counter.traces)
        assert reruns["runs"].tolist() == [2]
    # The search's models are built before their fit: one trace per trial and
    # per rerun; a hypermodel with its own `fit` is left to Keras (two each).
    assert traces == {"build function": (3, 2), "own fit": (6, 4)}
