"""`CoarseToFineSearch`: the keras-tuner tuner for seed 003's coarse-to-fine recipe."""

import math
import os
import time

import keras
import keras_tuner
import numpy as np

from keras_recipes.tuning import _atomic
from keras_recipes.tuning import _chief
from keras_recipes.tuning import _gpu
from keras_recipes.tuning import _graph_release
from keras_recipes.tuning import _reports
from keras_recipes.tuning import _rerun
from keras_recipes.tuning import _sampling
from keras_recipes.tuning import _single_trace
from keras_recipes.tuning import _trial_rules
from keras_recipes.tuning import coarse_to_fine_oracle as c2f

#: Seconds a worker waits before asking again when the oracle answered IDLE
#: (the barrier between rounds); keras-tuner re-asks in a tight loop.
IDLE_POLL_SECONDS = 0.5


def _history_summary(history, objective):
    """Best-epoch metrics of one fit, with divergence and epoch counts."""
    logs = history.history
    if objective.name not in logs:
        raise keras_tuner.errors.FatalValueError(
            f"The objective `{objective.name}` is not among the metrics of the fit; "
            f"expected one of {sorted(logs)} (pass validation data for `val_` "
            f"metrics). Received: objective={objective.name!r}"
        )
    scores = [float(v) for v in logs[objective.name]]
    diverged = _trial_rules.is_diverged(logs.get("loss", []), scores)
    finite = [i for i, s in enumerate(scores) if math.isfinite(s)]
    pick = max if objective.direction == "max" else min
    best = pick(finite, key=lambda i: scores[i]) if finite else 0
    summary = {k: float(v[best]) for k, v in logs.items() if v and math.isfinite(float(v[best]))}
    summary[objective.name] = scores[best] if finite else math.nan
    if diverged:
        sign = -1.0 if objective.direction == "max" else 1.0
        summary[objective.name] = sign * c2f.INFEASIBLE_PENALTY
    summary[c2f.INFEASIBLE_METRIC] = float(diverged)
    summary[c2f.BEST_EPOCH_METRIC] = float(best)
    summary[c2f.EPOCHS_TRAINED_METRIC] = float(len(scores))
    return summary


class CoarseToFineSearch(keras_tuner.Tuner):
    """Coarse-to-fine hyperparameter search (seed 003), on keras-tuner.

    Round 1 samples the full ranges for a few epochs; each later round
    narrows every numeric range around the previous round's top-k trials and
    trains longer (see `CoarseToFineOracle`). Diverged trials are infeasible,
    not failures; trials worse than their round's median at the same epoch
    stop early. TensorFlow's GPU memory growth is turned on; with
    keras-tuner's distributed mode (`launch_distributed_search`) each worker
    runs one trial at a time on its GPU. Calling it again on the same
    `directory` and `project_name` resumes an interrupted search.

    Args:
        hypermodel: A `keras_tuner.HyperModel` or a function `hp -> model`
            returning a compiled model (e.g. `mlp_hypermodel(...)`).
        objective: A metric name or `keras_tuner.Objective`.
            Defaults to `"val_loss"`.
        coarse_trials: Trials in round 1. Defaults to `20`.
        fine_trials: Trials in each later round. Defaults to `10`.
        coarse_epochs: Epochs per trial in round 1. Defaults to `3`.
        fine_epochs: Epochs per trial in later rounds. Defaults to `10`.
        top_k: Trials each range is narrowed around. Defaults to `5`.
        rounds: Number of rounds. Defaults to `2`.
        promote: The best configurations of a round that the next round
            re-trains first, for its longer epochs. Defaults to `1`.
        sampling: `"random"` or `"halton"`. Defaults to `"random"`.
        boundary: `"warn"` or `"expand"`. Defaults to `"warn"`.
        early_stopping: Median stopping inside a round. Defaults to `True`.
        seed: Random seed; `None` picks one. Defaults to `None`.
        directory: Folder of the search's files. Defaults to `None` (`"."`).
        project_name: Sub-folder name. Defaults to `None` (`"coarse_to_fine"`).
        overwrite: Start afresh instead of resuming. Defaults to `False`.
        progress: Print one line per finished trial. Defaults to `True`.
        **kwargs: Passed to `keras_tuner.Tuner` (or to the oracle:
            `hyperparameters`, `tune_new_entries`, `allow_new_entries`,
            `max_retries_per_trial`, `max_consecutive_failed_trials`).

    Raises:
        ValueError: for bad counts, `sampling`, `boundary` or `objective`.

    Example:

    >>> from sklearn.datasets import load_digits
    >>> digits = load_digits()
    >>> x, y = (digits.data / 16).astype("float32"), digits.target
    >>> tuner = CoarseToFineSearch(
    ...     mlp_hypermodel((64,), 10), "val_accuracy", coarse_trials=6,
    ...     fine_trials=3, coarse_epochs=1, fine_epochs=3, top_k=2,
    ...     directory="/tmp/c2f", overwrite=True)
    >>> tuner.search(x[:1400], y[:1400], validation_data=(x[1400:], y[1400:]))
    >>> tuner.results_dataframe()  # one row per trial
    >>> tuner.ranges()             # the ranges of each round
    """

    _ORACLE_ARGS = ("hyperparameters", "tune_new_entries", "allow_new_entries",
                    "max_retries_per_trial", "max_consecutive_failed_trials")

    def __init__(
        self,
        hypermodel=None,
        objective="val_loss",
        *,
        coarse_trials=20,
        fine_trials=10,
        coarse_epochs=3,
        fine_epochs=10,
        top_k=5,
        rounds=2,
        promote=1,
        sampling="random",
        boundary="warn",
        early_stopping=True,
        seed=None,
        directory=None,
        project_name=None,
        overwrite=False,
        progress=True,
        **kwargs,
    ):
        _gpu.enable_memory_growth()
        oracle = c2f.CoarseToFineOracle(
            objective, coarse_trials=coarse_trials, fine_trials=fine_trials,
            coarse_epochs=coarse_epochs, fine_epochs=fine_epochs, top_k=top_k,
            rounds=rounds, promote=promote, sampling=sampling, boundary=boundary,
            early_stopping=early_stopping, seed=seed, progress=progress,
            **{k: kwargs.pop(k) for k in self._ORACLE_ARGS if k in kwargs},
        )
        super().__init__(
            oracle, hypermodel, directory=directory,
            project_name=project_name or "coarse_to_fine", overwrite=overwrite, **kwargs,
        )
        self._polls_since_trial, self._stopped_trials = 0, set()
        self._fit_data = None  # the trial's `fit` arguments, while it builds and fits
        self._reload_search_of_another_process(overwrite)
        # A worker's oracle becomes a client of the chief's: keep the seed
        # here, read after a reload so a resumed search keeps its saved seed.
        self._seed = oracle.seed

    def _reload_search_of_another_process(self, overwrite):
        # keras-tuner reloads only when this process' own `<tuner_id>.json`
        # exists; a search run by distributed workers (or under another
        # tuner id) is reloaded from its `oracle.json` here.
        oracle_file = os.path.join(self.project_dir, "oracle.json")
        local = isinstance(self.oracle, c2f.CoarseToFineOracle)
        if local and not overwrite and not self.oracle.trials and os.path.exists(oracle_file):
            self.oracle.reload()

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        _atomic.save_json(self._get_tuner_fname(), self.get_state())

    # ---- running trials ---------------------------------------------------
    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner 1.4.8 imports tensorboard on every trial, even without a
        # TensorBoard callback, and TF >= 2.21 no longer installs it.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        values = trial.hyperparameters.values
        fit_kwargs["epochs"] = values.get(c2f.EPOCHS_KEY, fit_kwargs.get("epochs", 1))
        fit_kwargs["callbacks"] = [*fit_kwargs.get("callbacks", []), keras.callbacks.TerminateOnNaN()]
        # Each trial's weights, dropout and shuffling follow from the search's
        # seed and the trial's number: the same call gives the same search.
        keras.utils.set_random_seed((self._seed * 1000 + int(trial.trial_id)) % 2**31)
        start = time.perf_counter()
        self._stopped_trials.discard(trial.trial_id)  # a retried trial starts afresh
        with _graph_release.released_graphs():  # TF keeps them otherwise
            histories = super().run_trial(trial, *fit_args, **fit_kwargs)
        seconds = time.perf_counter() - start
        histories = [h for h in histories if h is not None]  # executions skipped after a stop
        if not all(isinstance(h, keras.callbacks.History) for h in histories):
            return histories
        summaries = [_history_summary(h, self.oracle.objective) for h in histories]
        merged = {k: float(np.mean([s[k] for s in summaries if k in s])) for k in summaries[0]}
        merged[c2f.INFEASIBLE_METRIC] = float(max(s[c2f.INFEASIBLE_METRIC] for s in summaries))
        merged[c2f.SECONDS_METRIC] = seconds
        return merged

    def on_epoch_end(self, trial, model, epoch, logs=None):
        objective = self.oracle.objective
        if not logs or objective.name not in logs:
            return
        value = float(logs[objective.name])
        if not math.isfinite(value):
            return
        answer = self.oracle.update_trial(trial.trial_id, {c2f.EPOCH_METRIC: value}, step=epoch)
        if answer.status == "STOPPED":
            model.stop_training = True
            self._stopped_trials.add(trial.trial_id)

    def _build_and_fit_model(self, trial, *args, **kwargs):
        # With `executions_per_trial` > 1, a trial stopped early by the median
        # rule skips its other executions: they would inherit the stop after
        # one epoch and only drag its mean down.
        if trial.trial_id in self._stopped_trials:
            return None
        self._fit_data = (args, kwargs)
        try:
            return super()._build_and_fit_model(trial, *args, **kwargs)
        finally:
            self._fit_data = None

    def _try_build(self, hp):
        model = super()._try_build(hp)
        if self._fit_data is not None:  # a trial's model: its first step traced once
            _single_trace.build_before_fit(model, self.hypermodel, *self._fit_data)
        return model

    def pre_create_trial(self):
        if self._polls_since_trial > 0:
            time.sleep(IDLE_POLL_SECONDS)
        self._polls_since_trial += 1

    def on_trial_begin(self, trial):
        self._polls_since_trial = 0
        super().on_trial_begin(trial)

    def search(self, *fit_args, verbose=0, **fit_kwargs):
        """Runs the search. Arguments go to `model.fit` (`epochs` is set per round).

        Args:
            *fit_args: Training data etc., passed to `fit`.
            verbose: Keras' verbosity for each `fit`. Defaults to `0` (one
                line per trial is printed instead).
            **fit_kwargs: Passed to `fit` (e.g. `validation_data`, `batch_size`).
        """
        if _chief.is_chief():
            self.oracle.verbose = 0
            _chief.clear_search_over(self.project_dir)
            self.save()
            _chief.serve_oracle(self.oracle)
            _chief.mark_search_over(self.project_dir, self.oracle.max_trials)
            return
        if self._is_worker() and not _chief.wait_for_chief(self.project_dir, self.oracle.max_trials):
            print(f"The search in {self.project_dir} is over and its chief has left: "
                  f"nothing to do for {self.tuner_id}.")
            return
        self._check_declared_ranges()
        with _graph_release.frozen_heap():  # keras-tuner's two full gc passes per trial
            super().search(*fit_args, verbose=verbose, **fit_kwargs)

    def _check_declared_ranges(self):
        """A resumed search refuses a hypermodel whose ranges differ from the
        ones its round 1 sampled: the saved rounds would be silently kept."""
        oracle = self.oracle
        if not isinstance(oracle, c2f.CoarseToFineOracle) or not oracle.round_ranges:
            return
        declared = keras_tuner.HyperParameters()
        try:
            self.hypermodel.build(declared)
        except Exception:  # a failing build is the search's to report, per trial
            return
        first = oracle.round_ranges[0]
        for hp in declared.space:
            saved = first.get(hp.name)
            if saved is None or not _sampling.is_numeric(hp):
                continue
            now = {"min_value": hp.min_value, "max_value": hp.max_value, "sampling": hp.sampling}
            same = saved["sampling"] == now["sampling"] and all(
                math.isclose(saved[key], now[key], rel_tol=1e-9) for key in ("min_value", "max_value"))
            if not same:
                raise ValueError(
                    f"The search in {self.project_dir!r} sampled {hp.name} in "
                    f"[{saved['min_value']:.6g}, {saved['max_value']:.6g}] ({saved['sampling']}); "
                    "a search resumes only with the ranges it started with. Expected the "
                    "same range, or overwrite=True, or another project_name. Received: "
                    f"{hp.name} in [{now['min_value']:.6g}, {now['max_value']:.6g}] ({now['sampling']})"
                )

    # ---- results ----------------------------------------------------------
    @property
    def boundary_warnings(self):
        """Best values found at a range's edge: one dict per warning, with a `message`."""
        return list(self.oracle.boundary_warnings)

    def results_dataframe(self):
        """One row per trial: trial_id, round, status, each hyperparameter, score,
        best_epoch, epochs_trained, seconds. Status is COMPLETED, STOPPED_EARLY,
        INFEASIBLE (diverged; score NaN), FAILED or RUNNING."""
        return _reports.results_dataframe(self.oracle)

    def ranges(self):
        """The numeric ranges sampled in each round, as a DataFrame."""
        return _reports.ranges_dataframe(self.oracle)

    def summary(self, print_fn=print):
        """Prints the counts, ranges per round, boundary warnings and the best trial.

        Returns:
            A dict: trials, completed, stopped_early, infeasible, failed,
            infeasible_fraction, best_trial_id, best_score, best_values,
            boundary_warnings.
        """
        figures = _reports.summary_figures(self.oracle)
        for line in _reports.summary_lines(self.oracle, figures):
            print_fn(line)
        return figures

    def rerun_best(self, *fit_args, n=3, seeds=(0, 1, 2), epochs=None, **fit_kwargs):
        """Retrains the `n` best distinct configurations once per seed.

        A winner is trusted only if its mean beats the runner-up by more than
        the seed-to-seed spread (the trial noise), reported as `std`: the
        sample standard deviation (ddof=1, NaN with a single seed). A
        configuration trained in several rounds (a promoted trial) counts
        once, with its better-ranked trial.

        Args:
            *fit_args: Training data etc., passed to `fit`.
            n: Distinct configurations to retrain. Defaults to `3`.
            seeds: One retraining per seed. Defaults to `(0, 1, 2)`.
            epochs: Epochs per run; `None` uses each trial's own epoch count.
                Defaults to `None`.
            **fit_kwargs: Passed to `fit` (e.g. `validation_data`).

        Returns:
            A DataFrame, best first: trial_id, round, search_score, mean, std,
            runs and the hyperparameter values.
        """
        return _rerun.rerun_best(self, fit_args, fit_kwargs, n=n, seeds=seeds, epochs=epochs)
