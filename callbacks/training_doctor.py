"""The `TrainingDoctor` callback: findings with evidence and fixes."""

import math

import keras
import pandas as pd

from keras_recipes.callbacks import _accuracy_rules
from keras_recipes.callbacks import _chance_level
from keras_recipes.callbacks import _diagnosis
from keras_recipes.callbacks import _doctor_report
from keras_recipes.callbacks import _frozen_rules
from keras_recipes.callbacks import _input_scale_rules
from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _loss_output_rules
from keras_recipes.callbacks import _optimizer_settings
from keras_recipes.callbacks import _pairing_rules
from keras_recipes.callbacks import _start_loss
from keras_recipes.callbacks import _trainable_rules
from keras_recipes.callbacks.activation_stats import ActivationStats
from keras_recipes.callbacks.diagnosis_thresholds import resolve_thresholds
from keras_recipes.callbacks.findings import FINDING_KINDS
from keras_recipes.callbacks.gradient_monitor import GradientMonitor
from keras_recipes.recipes import _validation
from keras_recipes.tuning import _model_parts

#: A penalty below this share of the starting loss is not what shrank the
#: weights (the over-regularization rule needs more, or a weight decay).
_MATERIAL_PENALTY = 0.01

# The Keras hooks the doctor forwards to the monitors it owns.
_FORWARDED_HOOKS = (
    "on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_train_end",
)


class TrainingDoctor(keras.callbacks.Callback):
    """Watches a training run and says what is wrong with it, and how to fix it.

    The doctor owns an `ActivationStats` and a `GradientMonitor`, reads the
    training and validation curves, and turns the numbers into `Finding`s of
    one vocabulary (`FINDING_KINDS`): gradient problems (vanishing, exploding,
    non-finite), activation problems (dead ReLU, GELU/SiLU/ELU/softplus units on
    their flat tail, saturated sigmoid/tanh, a hidden softmax saturated on
    most examples),
    learning-rate problems, seed 003's loss-curve cases (needs more training,
    overfitting, underfitting) and a loss below its floor (labels outside the
    loss's range), and, read from the model when training begins, a
    cross-entropy that misreads the output (`loss_output_mismatch`: a linear
    output under `from_logits=False`, or probabilities under
    `from_logits=True` where Keras does not recover the logits; with `y`, a
    sigmoid/tanh/relu output that cannot reach the regression targets), which
    explains the stalled curves and dead units it brings about, and, from the
    first watched layer's outputs at the first step, inputs far from
    standardized (`unscaled_inputs`, or "standardize the inputs" first in the
    advice of the findings they bring about; for inputs far smaller, only
    the latter, and only when that layer reads the inputs as they are). Advice to clip the gradients
    names the optimizer's own clipping when it has one. Each finding
    names the layer, when it was first seen, the numbers that triggered it and
    advice from the seeds. Precision comes first: a symptom must hold over a
    window of logged steps, and symptoms that can be harmless (a few dead
    units) count only when the training curve shows that learning is impaired.
    The thresholds and their reasons are in `DIAGNOSIS_THRESHOLDS`. Findings
    are computed when training ends, and after every epoch when `stop_on`
    names a kind other than `non_finite`. Curve findings need 4+ epochs.

    Loss changes are measured against the chance level, the loss of a model
    that ignores its input: `ln C` for a C-class softmax, `ln 2` for a binary
    cross-entropy. Pass the training targets as `y` to measure against the
    chance level of the data instead: the entropy of the label prior for a
    cross-entropy (0.325 for 90/10 labels, where `ln 2` would make a model
    that only learned the prior look fine), the loss of the best constant
    for a regression (the targets' variance for a mean squared error, found
    numerically for Huber and log-cosh). A validation loss that never leaves the chance
    level is then `overfitting` if the training loss falls well below it
    (labels that do not match the inputs), else `underfitting`. Without a
    chance level (other losses, no `y`), the loss at the start is the
    reference. With label smoothing (or soft labels in `y`) a cross-entropy
    cannot fall below the entropy of the targets it is given (0.423 for
    binary smoothing 0.3): progress is measured down to there, not to 0.

    Args:
        every_n_batches: The monitors record every this many steps.
            Defaults to `10`.
        stop_on: Finding kinds that stop training when they appear (checked
            after every batch for `non_finite`, after every epoch for the
            rest). Defaults to `("non_finite",)`.
        thresholds: Overrides of `DIAGNOSIS_THRESHOLDS` entries. Defaults to
            `None`.
        learning_rate_finder: A `find_learning_rate` result (or a float) whose
            suggestion the advice names. Defaults to `None`.
        verbose: 1 prints the report when training ends, 0 stays quiet.
            Defaults to `0`.
        y: The training targets, as passed to `fit` (class ids, one-hot rows,
            labels in [0, 1] or values; a dict or list for several outputs).
            They give the chance level of one output's cross-entropy, MSE,
            MAE, Huber or log-cosh loss (other losses and several outputs:
            a warning, and the start is the reference), and show regression
            outputs whose activation cannot reach them. With `class_weight`
            or `sample_weight` in `fit`, pass `chance_loss` or leave `y` out
            (the prior of `y` is not the weighted loss's). Defaults to `None`.
        chance_loss: The chance-level loss, a finite number > 0, when you
            know it better (a custom loss, a weighted one); instead of `y`.
            Defaults to `None`.

    Raises:
        ValueError: If an argument is invalid, both `y` and `chance_loss`
            are given, or (when training begins) `y` does not match the
            compiled loss: class ids not below the number of output units,
            binary labels outside [0, 1], categorical rows that are not
            one-hot, one-hot rows for a sparse loss.

    Example:

    >>> doctor = TrainingDoctor(y=y_train)
    >>> model.fit(x_train, y_train, validation_split=0.2, epochs=20, callbacks=[doctor])
    >>> print(doctor.report())
    >>> doctor.save_report("doctor_report")  # report.md and PNG plots
    """

    def __init__(self, every_n_batches=10, stop_on=("non_finite",), thresholds=None,
                 learning_rate_finder=None, verbose=0, y=None, chance_loss=None):
        super().__init__()
        self.every_n_batches = _validation.check_positive_int("every_n_batches", every_n_batches)
        self.stop_on = _check_stop_on(stop_on)
        self.thresholds = resolve_thresholds(thresholds)
        self.learning_rate_finder = learning_rate_finder
        self.suggestion = _suggestion(learning_rate_finder)
        if verbose not in (0, 1):  # True and False too
            raise ValueError(
                f"Invalid value for argument `verbose`: expected 0 or 1. Received: verbose={verbose!r}"
            )
        self.verbose = verbose
        self.y = y
        self._targets = _chance_level.check_targets(y)
        self.chance_loss = _chance_level.check_chance_loss(chance_loss)
        if self._targets is not None and self.chance_loss is not None:
            raise ValueError(
                "Pass either `y` (the chance level is computed from it) or "
                f"`chance_loss`, not both. Received: y={_validation.short_repr(y)}, "
                f"chance_loss={chance_loss!r}"
            )
        self.activation_stats = ActivationStats(every_n_batches=every_n_batches, histogram_bins=30)
        self.gradient_monitor = GradientMonitor(every_n_batches=every_n_batches)
        self._reset()

    def _reset(self):
        self._epochs, self._initial_loss, self._chance_loss = [], None, None
        self._start = _start_loss.StartLoss()
        self._target_chance, self._loss_floor, self._classification = None, None, True
        self._perfect_loss = 0.0
        self._initial_penalty, self._dominators, self._decay = 0.0, {}, False
        self._output_layers = ()
        self._model_read, self._mismatch, self._batch_normalized = False, [], False
        self._input_gains = {}
        self._first_epoch, self._epoch = None, None
        self._findings, self.stopped_on = [], None

    @property
    def monitors(self):
        return (self.activation_stats, self.gradient_monitor)

    def set_model(self, model):
        super().set_model(model)
        for monitor in self.monitors:
            monitor.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for monitor in self.monitors:
            monitor.set_params(params)

    def _forward(self, hook, *args):
        for monitor in self.monitors:
            getattr(monitor, hook)(*args)

    def on_train_begin(self, logs=None):
        self._reset()
        # Before the monitors patch the model: a mismatch leaves it untouched.
        self._target_chance = _chance_level.target_chance(self.model, self._targets)
        self._read_model()
        self._forward("on_train_begin", logs)

    def _read_model(self):
        """What the rules need from the model; a model built by its first
        step (a Sequential without `Input`) is read after that step."""
        self._model_read = self.model.built
        chances = (self.chance_loss, self._target_chance, _chance_level.model_chance(self.model))
        self._chance_loss = next((chance for chance in chances if chance is not None), None)
        self._loss_floor = _chance_level.loss_floor(self.model)
        self._perfect_loss = _chance_level.perfect_loss(self.model, self._targets)
        self._classification = _model_parts.classification_kind(self.model) is not None
        self._initial_penalty = _model_parts.regularization_penalty(self.model)
        self._dominators = _layers.dominators(self.model)
        self._output_layers = _layers.output_layer_names(self.model)
        self._mismatch = _loss_output_rules.loss_output_findings(self.model, self.y, self.thresholds)
        self._batch_normalized = any(
            isinstance(layer, keras.layers.BatchNormalization)
            for _, layer in _layers.leaf_layers(self.model)
        )
        self._input_gains = _input_scale_rules.input_gains(self.model)
        self._decay = bool(getattr(getattr(self.model, "optimizer", None), "weight_decay", None))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._forward("on_epoch_begin", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._forward("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._forward("on_train_batch_end", batch, logs)
        if not self._model_read:
            self._read_model()
            self._model_read = True  # once: a model still unbuilt now stays as it is
        loss = float((logs or {}).get("loss", 0.0))
        if self._epoch == self._first_epoch:  # the loss at the start (`_start_loss`)
            self._start.update(batch, loss)
            self._initial_loss = self._start.value
        if not math.isfinite(loss) and "non_finite" in self.stop_on:
            self._stop("non_finite")

    def on_epoch_end(self, epoch, logs=None):
        self._forward("on_epoch_end", epoch, logs)
        self._epochs.append({key: float(value) for key, value in (logs or {}).items()})
        if set(self.stop_on) - {"non_finite"}:
            self._findings = self._diagnose()
        stopping = [f.kind for f in self._findings if f.kind in self.stop_on]
        if stopping:
            self._stop(stopping[0])

    def on_train_end(self, logs=None):
        self._forward("on_train_end", logs)
        self._findings = self._diagnose()
        if self.verbose:
            print(self.report())

    def _stop(self, kind):
        self.model.stop_training = True
        if self.stopped_on is None:
            self.stopped_on = kind

    def _diagnose(self):
        found = _diagnosis.diagnose(
            self.curves(), self.gradient_monitor.to_dataframe(),
            self.activation_stats.to_dataframe(), self.thresholds,
            self._chance_loss, self._initial_loss, self.suggestion, self._initial_penalty,
            self._dominators, self._regularized(),
            # A term of `add_loss` (an entropy bonus) may take the loss below 0.
            None if _model_parts.has_batch_loss_terms(self.model) else self._loss_floor,
            # A regression's chance level (the targets' variance) is no scale
            # for its first epochs: an untrained network predicts about 0.
            start_scaled=self._chance_loss is not None and not self._classification,
            perfect_loss=self._perfect_loss, batch_normalized=self._batch_normalized,
            outputs=self._output_layers,
        )
        # A validation accuracy above chance is no memorization.
        chance_accuracy = _accuracy_rules.chance_accuracy(
            self._targets, _chance_level.output_units(self.model)) if self._classification else None
        found = _accuracy_rules.with_accuracy_above_chance(
            found, self.curves(), chance_accuracy, self.thresholds, self.suggestion)
        # A loss that misreads the output explains what the run shows.
        found = _loss_output_rules.with_mismatch(self._mismatch, found)
        found = _trainable_rules.with_nothing_trainable(self.model, found)
        # Dead units in a frozen layer: no optimizer setting revives them.
        found = _frozen_rules.with_frozen_dead_layers(self.model, found)
        # A training loss at chance under heavy dropout: not x and y unpaired.
        found = _pairing_rules.with_heavy_dropout(self.model, found, self.suggestion)
        # Inputs (or regression targets) far from standardized come first in the advice.
        found = _input_scale_rules.with_scale(
            found, self.activation_stats.to_dataframe(), self._targets, self._classification,
            self.thresholds, self._input_gains)
        # An optimizer that clips already needs a lower clip, not "clip".
        return _optimizer_settings.with_clipping(found, getattr(self.model, "optimizer", None))

    def _regularized(self):
        # A penalty under 1% of the starting loss cannot shrink weights that
        # the data holds up (with Adam it still empties dead units' kernels).
        if self._decay:
            return True
        start = self._initial_loss
        return self._initial_penalty > 0 and (
            start is None or self._initial_penalty >= _MATERIAL_PENALTY * abs(start))

    @property
    def findings(self):
        """The list of `Finding`s of the last (or current) training run."""
        return list(self._findings)

    def curves(self):
        """The per-epoch logs (`loss`, `val_loss`, metrics) as a DataFrame."""
        return pd.DataFrame(self._epochs)

    def report(self):
        """The findings as readable text, with their evidence and fixes."""
        return _doctor_report.text_report(self._findings, self.curves(), self.stopped_on)

    def save_report(self, directory):
        """Writes `report.md` and PNG plots (loss curves, gradient norms,
        activation histograms, the LR sweep if given) into `directory`.

        Returns:
            The path of `report.md`.
        """
        return _doctor_report.save_report(self, directory)


def _check_stop_on(stop_on):
    if stop_on is not None and not isinstance(stop_on, (str, list, tuple, set, frozenset)):
        raise ValueError(
            "`stop_on` must name finding kinds. Expected a kind, a list of kinds "
            f"or None. Received: stop_on={stop_on!r}"
        )
    stop_on = (stop_on,) if isinstance(stop_on, str) else tuple(stop_on or ())
    for kind in stop_on:
        if kind not in FINDING_KINDS:
            raise ValueError(
                "Unknown finding kind in `stop_on`. Expected kinds from "
                f"{sorted(FINDING_KINDS)}. Received: stop_on={stop_on!r}"
            )
    return stop_on


def _suggestion(learning_rate_finder):
    if learning_rate_finder is None:
        return None
    if isinstance(learning_rate_finder, (int, float)):
        return _validation.check_positive("learning_rate_finder", learning_rate_finder)
    if not hasattr(learning_rate_finder, "suggestion"):
        raise ValueError(
            "`learning_rate_finder` must be a `find_learning_rate` result or a "
            f"float. Received: learning_rate_finder={learning_rate_finder!r}"
        )
    return learning_rate_finder.suggestion

