"""How the coarse-to-fine oracle saves and reloads its state."""

import os

from keras_tuner.engine.trial import TrialStatus

from keras_recipes.tuning import _atomic

#: The search's own state, saved in `oracle.json` besides keras-tuner's.
STATE = ("round_ranges", "boundary_warnings", "_checked_rounds", "_curves", "_stopped_early")


class SavedAtomically:
    """Mixin for a `keras_tuner.Oracle`: its files are written atomically
    (a process killed mid-write leaves the previous file), its `STATE`
    attributes are saved with keras-tuner's, and a reload re-runs only the
    trials that were really running when the process died."""

    def save(self):
        _atomic.save_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        _atomic.save_json(path, trial.get_state())

    def reload(self):
        super().reload()
        finished = (TrialStatus.COMPLETED, TrialStatus.FAILED)
        self._retry_queue = [i for i in self._retry_queue if self.trials[i].status not in finished]
        # keras-tuner writes a new trial's `trial.json` before `oracle.json`:
        # a process killed between the two leaves a running trial that the
        # oracle never recorded. It is re-run like the recorded ones (else it
        # stays RUNNING for ever, and a later trial takes its place in the budget).
        for trial_id in sorted(self.trials):
            unrecorded = trial_id not in self._retry_queue and trial_id not in self.end_order
            if unrecorded and self.trials[trial_id].status == TrialStatus.RUNNING:
                self._retry_queue.append(trial_id)
                if trial_id not in self.start_order:
                    self.start_order.append(trial_id)

    def get_state(self):
        state = super().get_state()
        state["coarse_to_fine"] = {name.lstrip("_"): getattr(self, name) for name in STATE}
        state["coarse_to_fine"]["settings"] = self._fixed_settings()
        return state

    def set_state(self, state):
        saved = state["coarse_to_fine"].get("settings")
        if saved is not None:  # (files of earlier versions have none)
            _check_same_settings(saved, self._fixed_settings(), self._project_dir)
        super().set_state(state)
        for name in STATE:
            setattr(self, name, state["coarse_to_fine"][name.lstrip("_")])

    def _fixed_settings(self):
        """What a resumed search must keep: its scores and round 1 depend on them.
        (The trial counts of later rounds, their epochs and `rounds` may change.)"""
        return {"objective": [self.objective.name, self.objective.direction],
                "coarse_trials": self.coarse_trials, "coarse_epochs": self.coarse_epochs}


def _check_same_settings(saved, received, project_dir):
    for name in ("objective", "coarse_trials", "coarse_epochs"):
        old, new, shown = saved[name], received[name], repr
        if name == "objective":
            old, new = tuple(old), tuple(new)
            shown = _objective_text
        if old != new:
            raise ValueError(
                f"The search in {project_dir!r} was run with {name}={shown(old)}; a search "
                f"resumes only with the same {name}. Expected {name}={shown(old)}, or "
                f"overwrite=True, or another project_name. Received: {name}={shown(new)}"
            )


def _objective_text(objective):
    name, direction = objective
    return f"{name!r} ({direction})"
