"""`CoarseToFineOracle`: rounds of random search, each narrowed around the last one's best."""

import math

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_recipes.tuning import _oracle_arguments
from keras_recipes.tuning import _oracle_state
from keras_recipes.tuning import _reports
from keras_recipes.tuning import _sampling
from keras_recipes.tuning import _ranges
from keras_recipes.tuning import _trial_rules
from keras_recipes.tuning._keys import (  # noqa: F401 - re-exported for the tuner
    BEST_EPOCH_METRIC,
    EPOCH_METRIC,
    EPOCHS_KEY,
    EPOCHS_TRAINED_METRIC,
    INFEASIBLE_METRIC,
    INFEASIBLE_PENALTY,
    PRIVATE_KEYS,
    ROUND_KEY,
    SECONDS_METRIC,
)


class CoarseToFineOracle(_oracle_state.SavedAtomically, keras_tuner.Oracle):
    """Coarse-to-fine random search over rounds (seed 003's recipe).

    Round 1 samples the full ranges (log-uniform for `sampling="log"`
    hyperparameters) and trains each trial `coarse_epochs` epochs. Each later
    round narrows every numeric range around the top-k trials of the round
    before (a margin in decades, wider for regularization than for the
    learning rate) and trains `fine_epochs` epochs; its first `promote`
    trials re-train the round before's best configurations for those longer
    epochs (as successive halving promotes its best), so a good region found
    cheaply pays off at once; a round that trains as long as the one before
    (round 3 after round 2) promotes nothing. After each round, a best
    value at a range's edge is recorded in `boundary_warnings`; with
    `boundary="expand"` the next round's log range extends past that edge.
    Trials that diverge are infeasible: scored with a finite penalty, never
    counted as failures. With `early_stopping`, a trial whose best value so
    far is worse than the median of its round's peers at the same epoch is
    stopped (through `update_trial`, so distributed workers stop too).
    Trials with the same score are ranked by their loss at the best epoch
    (`val_loss` for a `val_` objective, else `loss`; see `tie_break_metric`):
    an accuracy measured on a small validation set ties often, and the first
    of the tied trials is often a short coarse one.

    Args:
        objective: A metric name or `keras_tuner.Objective`.
            Defaults to `"val_loss"`.
        coarse_trials: Trials in round 1. Defaults to `20`.
        fine_trials: Trials in each later round. Defaults to `10`.
        coarse_epochs: Epochs per trial in round 1. Defaults to `3`.
        fine_epochs: Epochs per trial in later rounds. Defaults to `10`.
        top_k: Trials a range is narrowed around. Defaults to `5`.
        rounds: Number of rounds. Defaults to `2`.
        promote: Best configurations of a round re-trained first in the
            next. Defaults to `1`.
        sampling: `"random"` or `"halton"` (scrambled Halton points, which
            cover a range more evenly). Defaults to `"random"`.
        boundary: `"warn"` or `"expand"`. Defaults to `"warn"`.
        early_stopping: Median stopping inside a round. Defaults to `True`.
        seed: Random seed (an integer >= 0, 0 included); `None` picks one.
            Defaults to `None`.
        progress: Print one line per finished trial. Defaults to `True`.
        **kwargs: Passed to `keras_tuner.Oracle` (`hyperparameters`,
            `allow_new_entries`, `tune_new_entries`,
            `max_consecutive_failed_trials`).

    Raises:
        ValueError: for a non-positive count, an unknown `sampling` or
            `boundary`, a `seed` that is not an integer or `None`, `top_k`
            larger than `coarse_trials`, or `promote` negative or larger
            than `top_k` or `fine_trials`.

    Example:

    >>> oracle = CoarseToFineOracle("val_accuracy", coarse_trials=8, fine_trials=4)
    >>> oracle.max_trials
    12
    """

    def __init__(
        self,
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
        progress=True,
        **kwargs,
    ):
        seed = _oracle_arguments.check_arguments(
            objective, coarse_trials=coarse_trials, fine_trials=fine_trials,
            coarse_epochs=coarse_epochs, fine_epochs=fine_epochs, top_k=top_k, rounds=rounds,
            promote=promote, sampling=sampling, boundary=boundary,
            early_stopping=early_stopping, seed=seed, progress=progress,
        )
        super().__init__(
            objective=objective,
            max_trials=coarse_trials + (rounds - 1) * fine_trials,
            seed=seed,
            **kwargs,
        )
        if seed is not None:
            # keras-tuner reads `seed or random`: 0 would pick a random seed.
            self.seed = self._seed_state = seed
        self.coarse_trials, self.fine_trials = coarse_trials, fine_trials
        self.coarse_epochs, self.fine_epochs = coarse_epochs, fine_epochs
        self.top_k, self.rounds, self.promote = top_k, rounds, int(promote)
        self.sampling, self.boundary = sampling, boundary
        self.early_stopping, self.progress = early_stopping, progress
        self._display.verbose = 0
        # Search state (saved): constructor settings stay out of it, so a
        # resumed search may be given a larger budget.
        self.round_ranges = []
        self.boundary_warnings = []
        self._checked_rounds = []
        self._curves = {}
        self._stopped_early = []

    # ---- rounds -----------------------------------------------------------
    def round_of_index(self, index):
        """The round (from 1) of the trial with number `index` (from 0)."""
        if index < self.coarse_trials:
            return 1
        return 2 + (index - self.coarse_trials) // self.fine_trials

    def round_start(self, round_number):
        """The number of the first trial of `round_number`."""
        if round_number == 1:
            return 0
        return self.coarse_trials + (round_number - 2) * self.fine_trials

    def round_size(self, round_number):
        return self.coarse_trials if round_number == 1 else self.fine_trials

    def epochs_for(self, round_number):
        return self.coarse_epochs if round_number == 1 else self.fine_epochs

    def round_of(self, trial):
        return trial.hyperparameters.values.get(ROUND_KEY)

    def _round_trials(self, round_number):
        return [t for t in self.trials.values() if self.round_of(t) == round_number]

    def ranked_trials(self, round_number=None):
        """Completed, feasible trials (of one round, or all), best first."""
        trials = self.trials.values() if round_number is None else self._round_trials(round_number)
        scored = [
            t for t in trials
            if t.status == TrialStatus.COMPLETED and not self.is_infeasible(t)
        ]
        return sorted(scored, key=self._rank_key)

    def get_best_trials(self, num_trials=1):
        """The best trials, as keras-tuner's, with ties on the score ranked
        by `tie_break_metric` (lower first). Infeasible trials come after the
        feasible ones (their score is a penalty), then trials not completed."""
        completed = [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED]
        ranked = sorted(completed, key=self._rank_key)
        if len(ranked) < num_trials:
            ranked += [t for t in self.trials.values() if t.status != TrialStatus.COMPLETED]
        return ranked[:num_trials]

    @property
    def tie_break_metric(self):
        """The metric that ranks trials tied on the score: `val_loss` for a
        `val_` objective, `loss` for another; `None` when that is the
        objective itself."""
        name = self.objective.name
        metric = "val_loss" if name.startswith("val_") else "loss"
        return None if metric == name else metric

    def _rank_key(self, trial):
        score = trial.score if trial.score is not None else math.nan
        if self.objective.direction == "max":
            score = -score
        metric = self.tie_break_metric
        tie = math.inf
        if metric is not None and trial.metrics.exists(metric):
            tie = trial.metrics.get_last_value(metric)
        return (score if math.isfinite(score) else math.inf,
                tie if math.isfinite(tie) else math.inf)

    # ---- sampling ---------------------------------------------------------
    def populate_space(self, trial_id):
        index = int(trial_id)
        round_number = self.round_of_index(index)
        if round_number > len(self.round_ranges):
            # A barrier between rounds: workers wait (IDLE) until the last
            # round's trials ended, then the ranges are narrowed once.
            if self.ongoing_trials or self._retry_queue:
                return {"status": TrialStatus.IDLE}
            self._start_round(round_number)
        values = self._sample(index - self.round_start(round_number), round_number)
        if values is None:
            return {"status": TrialStatus.STOPPED}
        values[ROUND_KEY] = round_number
        values[EPOCHS_KEY] = self.epochs_for(round_number)
        return {"status": TrialStatus.RUNNING, "values": values}

    def _sample(self, position, round_number):
        if position < self.promote and self._promotes_into(round_number):
            ranked = self.ranked_trials(round_number - 1)
            if position < len(ranked):
                # The last round's best, re-trained for this round's epochs.
                values = ranked[position].hyperparameters.values
                return {k: v for k, v in values.items() if k not in PRIVATE_KEYS}
        if self.sampling == "random":
            return self._random_values()
        return _sampling.halton_values(
            self.hyperparameters.space, self.seed + round_number, position)

    def _random_values(self):
        # keras-tuner's loop (unique values, at most `_max_collisions` tries),
        # with stepped Floats sampled up to their max (`_sampling.value_at`).
        collisions = 0
        while True:
            hps = keras_tuner.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = _sampling.random_value(hp, self._seed_state)
                    self._seed_state += 1
            if not self._duplicate(hps.values):
                return hps.values
            collisions += 1
            if collisions > self._max_collisions:
                return None

    @keras_tuner.synchronized
    def update_space(self, hyperparameters):
        # A hyperparameter first declared by a later build (inside a plain
        # `if` of the hypermodel) belongs to the ranges of the round it
        # appeared in.
        super().update_space(hyperparameters)
        if self.round_ranges:
            current = self.round_ranges[-1]
            for hp in self.hyperparameters.space:
                if _sampling.is_numeric(hp) and hp.name not in current:
                    current[hp.name] = {"min_value": hp.min_value, "max_value": hp.max_value,
                                        "sampling": hp.sampling}

    def _promotes_into(self, round_number):
        # Promotion pays for longer training only: a round with the epochs of
        # the round before (round 3 after round 2) would re-train its best
        # configurations exactly as they were trained.
        return round_number > 1 and self.epochs_for(round_number) != self.epochs_for(round_number - 1)

    def _compute_values_hash(self, values):
        values = {k: v for k, v in values.items() if k not in PRIVATE_KEYS}
        return super()._compute_values_hash(values)

    def _start_round(self, round_number):
        if round_number > 1:
            top = self.ranked_trials(round_number - 1)[: self.top_k]
            expand = {}
            if self.boundary == "expand":
                expand = _ranges.expansions(self.boundary_warnings, round_number - 1)
            for hp in self.hyperparameters.space:
                values = [t.hyperparameters.values[hp.name] for t in top
                          if hp.name in t.hyperparameters.values]
                if _sampling.is_numeric(hp) and values:
                    _ranges.narrow_hyperparameter(hp, values, expand.get(hp.name, ()))
        self.round_ranges.append(
            {
                hp.name: {"min_value": hp.min_value, "max_value": hp.max_value,
                          "sampling": hp.sampling}
                for hp in self.hyperparameters.space if _sampling.is_numeric(hp)
            }
        )

    # ---- boundary check ---------------------------------------------------
    def _check_boundaries(self, round_number):
        top = self.ranked_trials(round_number)[: self.top_k]
        for hp in self.hyperparameters.space:
            values = [t.hyperparameters.values.get(hp.name) for t in top]
            if not top or not _sampling.is_numeric(hp) or values[0] is None:
                continue
            expands = self.boundary == "expand" and round_number < self.rounds
            warning = _ranges.boundary_warning(
                hp, [v for v in values if v is not None], round_number, expands=expands)
            if warning is not None:
                self.boundary_warnings.append(warning)
                if self.progress:
                    print(warning["message"], flush=True)

    # ---- trial reports ----------------------------------------------------
    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        if EPOCH_METRIC not in metrics:
            return super().update_trial(trial_id, metrics, step=step)
        trial = self.trials[trial_id]
        curve = self._curves.setdefault(trial_id, {})
        if step == 0:  # a retried trial starts its curve afresh
            curve.clear()
        curve[str(int(step))] = float(metrics[EPOCH_METRIC])
        if self.early_stopping and self._should_stop(trial, int(step)):
            trial.status = TrialStatus.STOPPED
            if trial_id not in self._stopped_early:
                self._stopped_early.append(trial_id)
        return trial

    def _should_stop(self, trial, step):
        epochs = trial.hyperparameters.values.get(EPOCHS_KEY, 0)
        if step + 1 < _trial_rules.grace_epochs(epochs) or step + 1 >= epochs:
            return False
        direction = self.objective.direction
        curves = {tid: {int(s): v for s, v in c.items()} for tid, c in self._curves.items()}
        own = _trial_rules.best_so_far(curves[trial.trial_id], step, direction)
        peers = [
            _trial_rules.best_so_far(curves[t.trial_id], step, direction)
            for t in self._round_trials(self.round_of(trial))
            if t.trial_id != trial.trial_id and step in curves.get(t.trial_id, {})
        ]
        return _trial_rules.worse_than_median(own, peers, direction)

    def score_trial(self, trial):
        if self.is_infeasible(trial):
            sign = -1.0 if self.objective.direction == "max" else 1.0
            trial.score, trial.best_step = sign * INFEASIBLE_PENALTY, 0
            return
        super().score_trial(trial)
        if trial.metrics.exists(BEST_EPOCH_METRIC):
            trial.best_step = int(trial.metrics.get_last_value(BEST_EPOCH_METRIC))

    def is_infeasible(self, trial):
        """Whether `trial` diverged (a non-finite loss or objective)."""
        metrics = trial.metrics
        return metrics.exists(INFEASIBLE_METRIC) and metrics.get_last_value(INFEASIBLE_METRIC) > 0

    def is_stopped_early(self, trial):
        return trial.trial_id in self._stopped_early

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        trial = self.trials[trial.trial_id]
        if self.progress:
            print(_reports.progress_line(self, trial), flush=True)
        round_number = self.round_of(trial)
        ended = [t for t in self._round_trials(round_number) if t.trial_id in self.end_order]
        round_done = len(ended) >= self.round_size(round_number)
        if round_done and round_number not in self._checked_rounds:
            self._checked_rounds.append(round_number)
            self._check_boundaries(round_number)
        # keras-tuner saves before it drops the trial from the ongoing ones; a
        # chief killed now would re-run this finished trial on resume.
        self.save()
