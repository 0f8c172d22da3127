"""The `GradientMonitor` callback: per-layer gradient flow in `fit`."""

import math
import warnings

import numpy as np
import pandas as pd

from keras_recipes.callbacks import _gradient_rules
from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _monitor
from keras_recipes.callbacks import _plots
from keras_recipes.callbacks import _requests
from keras_recipes.recipes import _validation

#: What to do when a NaN or Inf shows up in the gradients or the loss.
NON_FINITE_ACTIONS = ("warn", "stop")

_COLUMNS = [
    "step", "epoch", "layer", "grad_norm", "grad_norm_max",
    "weight_norm", "update_ratio", "non_finite",
]


class GradientMonitor(_monitor.Monitor):
    """Records the gradient flowing back through every layer in `model.fit`.

    For each layer with weights, the callback measures the L2 norm of its
    kernel gradient (kernels, recurrent kernels, embeddings; every non-bias
    weight for normalization layers) as the optimizer receives it, unscaled
    under mixed precision and summed over replicas under a distribution
    strategy. The sublayers of a user-defined layer (a `keras.layers.Layer`
    subclass holding Dense layers, such as a residual block) are layers of
    their own; the user-defined layer keeps the weights that belong to none
    of them. Norms are computed at EVERY step inside the compiled step (one
    op per kernel), so `grad_norm_max` and `non_finite` cover all the steps
    since the previous record; the weight norm and the update-to-weight ratio
    are measured on logging steps. Nothing is added to `logs` and the model
    is left as it was. `.findings` diagnoses vanishing and exploding
    gradients and non-finite values from the recorded numbers. A layer whose
    gradient is exactly 0 at every step (every layer dead, a ReLU applied
    inside a user-defined layer's `call`, an op without a gradient) is
    reported as `vanishing_gradient`, with advice that no gradient reaches
    it, even when no layer got any gradient to compare it with.

    Under a `LossScaleOptimizer`, steps whose scaled gradients overflow are
    the scaler's normal business (it skips them): they are not counted as
    non-finite and do not enter `grad_norm_max`.

    Args:
        every_n_batches: Record every this many training steps (counted from
            0 across epochs). Defaults to `10`.
        vanishing_threshold: A layer whose gradient norm is below this
            fraction of the largest layer's, in at least half of the records,
            has a vanishing gradient (normalization layers, whose weights are
            scales, are not compared). Defaults to `1e-3`.
        exploding_threshold: A layer whose gradient norm (its running
            maximum) reaches more than this many times its median recorded
            norm, or more than 1e6, has an exploding gradient. Defaults to
            `100.0`.
        on_non_finite: `"warn"` to warn once, or `"stop"` to stop training,
            when a NaN or Inf appears in the gradients or the loss. Defaults
            to `"warn"`.
        max_records: At most this many logged steps are kept; beyond it,
            neighbouring records are merged (keeping the maximum norm and
            the total of non-finite steps). Defaults to `1000`.

    Example:

    >>> monitor = GradientMonitor(every_n_batches=5)
    >>> model.fit(x, y, epochs=2, callbacks=[monitor])  # doctest: +SKIP
    >>> monitor.findings  # doctest: +SKIP
    """

    _kind = "gradients"

    def __init__(
        self,
        every_n_batches=10,
        vanishing_threshold=1e-3,
        exploding_threshold=100.0,
        on_non_finite="warn",
        max_records=1000,
    ):
        super().__init__(every_n_batches, max_records)
        self.vanishing_threshold = _validation.check_positive("vanishing_threshold", vanishing_threshold)
        self.exploding_threshold = _validation.check_positive("exploding_threshold", exploding_threshold)
        if self.exploding_threshold <= 1.0:
            raise ValueError(
                "`exploding_threshold` is a growth factor. Expected a number "
                f"> 1. Received: exploding_threshold={exploding_threshold!r}"
            )
        self.on_non_finite = _validation.check_choice("on_non_finite", on_non_finite, NON_FINITE_ACTIONS)
        self._loss_non_finite_at = None
        self._warned = False

    def _request(self):
        return _requests.GradientRequest(self.every_n_batches)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._loss_non_finite_at, self._warned = None, False

    def _record(self, vector):
        layout = self._core.layout
        step, columns = layout.gradient_snapshot(vector, since=self._last_step)
        if step < 0:
            return None
        # A layer the optimizer gets no gradient for (a sublayer that its
        # user-defined layer never calls) has no row: its zeros are no
        # vanishing gradient.
        keep = [i for i in range(len(layout.gradient_layers))
                if i not in self._core.slots_without_gradients]
        record = {"step": step, "epoch": self._epoch,
                  "layers": [layout.gradient_layers[i] for i in keep]}
        record.update({name: np.asarray(values)[keep] for name, values in columns.items()})
        if record["non_finite"].sum() > 0:
            self._react(f"non-finite (NaN or Inf) gradients in {int(record['non_finite'].sum())} layer-steps by step {step}")
        return record

    def _after_batch(self, logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self._loss_non_finite_at is None:
            self._loss_non_finite_at = (self._epoch, self._core.host_step - 1)
            self._react(f"non-finite loss at epoch {self._epoch}")

    def _react(self, what):
        if self.on_non_finite == "stop":
            self.model.stop_training = True
        if not self._warned:
            self._warned = True
            warnings.warn(f"GradientMonitor: {what}.", RuntimeWarning, stacklevel=2)

    def _merge(self, older, newer):
        merged = dict(newer)
        merged["grad_norm_max"] = np.fmax(older["grad_norm_max"], newer["grad_norm_max"])
        merged["non_finite"] = older["non_finite"] + newer["non_finite"]
        return merged

    def to_dataframe(self):
        """Returns the gradient numbers as a long table, one row per (step, layer).

        Returns:
            A `pandas.DataFrame` with columns `step`, `epoch`, `layer`,
            `grad_norm`, `grad_norm_max`, `weight_norm`, `update_ratio`
            (`||update|| / ||weight||` of that step) and `non_finite` (int: the
            steps since the previous record whose gradient for that layer held
            a NaN or Inf).
        """
        rows = []
        for record in self._records:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = record["update_norm"] / record["weight_norm"]
            for i, layer in enumerate(record["layers"]):
                rows.append([
                    record["step"], record["epoch"], layer, record["grad_norm"][i],
                    record["grad_norm_max"][i], record["weight_norm"][i], ratio[i],
                    int(record["non_finite"][i]),
                ])
        table = pd.DataFrame(rows, columns=_COLUMNS)
        if table.empty:  # the dtypes a filled table has
            table = table.astype({
                "step": "int64", "epoch": "int64", "layer": "str", "non_finite": "int64",
                **{name: "float64" for name in _COLUMNS[3:7]},
            })
        return table

    @property
    def findings(self):
        """The `Finding`s (`vanishing_gradient`, `exploding_gradient`,
        `non_finite`) that the recorded numbers support."""
        scales = _layers.scale_layers(self.model) if self.model is not None else []
        return _gradient_rules.gradient_findings(
            self.to_dataframe(),
            self.vanishing_threshold,
            self.exploding_threshold,
            self._loss_non_finite_at,
            not_compared=scales,
        )

    def plot(self):
        """Returns a matplotlib figure of gradient norms and update ratios over steps."""
        return _plots.gradient_figure(self.to_dataframe())
