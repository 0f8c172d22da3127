"""Where each number lives in the monitors' packed statistics.

The step writes one float32 vector per record kind (a variable each); the
host reads them after logging steps and joins them: the gradient part, then
the activation part (each present only when a monitor asked for it).

- Gradient part, for L layers and a ring of R rows: the step of the last
  gradient record, then L half sums of squares (`tf.nn.l2_loss`) each of
  that step's gradients, of the weights before it and of its update, then
  the ring: R x L half sums of the last R steps (row `step % R`; R is the
  record interval, rounded up to whole batches of several steps). The host
  turns them into norms, the peak and the non-finite steps
  (`gradient_snapshot`): square roots and maxima cost ops in the step.
- Activation part: the step of the last activation record, then the
  `stacked_statistics` vector of the watched layer calls (one part per call).
"""

import dataclasses
from typing import List, Tuple

import numpy as np

from keras_recipes.callbacks import _statistics

#: Per-layer gradient columns of the snapshot, in packed order.
GRADIENT_COLUMNS = ("grad_norm", "grad_norm_max", "non_finite", "weight_norm", "update_norm")


@dataclasses.dataclass
class Layout:
    gradient_layers: List[str]
    captures: List[Tuple[str, str]]
    bins: int
    has_gradients: bool
    has_activations: bool
    ring_rows: int = 1
    loss_scaled: bool = False

    @property
    def gradient_size(self):
        if not self.has_gradients:
            return 0
        return 1 + (3 + self.ring_rows) * len(self.gradient_layers)

    @property
    def activation_size(self):
        if not self.has_activations:
            return 0
        return 1 + len(self.captures) * _statistics.statistics_size(self.bins)

    def initial_parts(self):
        """`{part: vector}` before any record: step -1, zeros."""
        parts = {}
        for part, size in (("gradients", self.gradient_size), ("activations", self.activation_size)):
            if size:
                parts[part] = np.zeros(size, "float32")
                parts[part][0] = -1.0
        return parts

    def join(self, parts):
        """Host side: the vector of all parts, from `{part: array}`; an empty
        array (a variable not written yet) stands for its initial part."""
        initial = self.initial_parts()
        joined = [
            np.asarray(parts[part]) if np.size(parts[part]) else initial[part]
            for part in ("gradients", "activations")
            if part in initial
        ]
        return np.concatenate(joined).astype("float64")

    def gradient_snapshot(self, vector, since=None):
        """Host side: (step, {column: per-layer array}) of the last gradient record.

        `grad_norm_max` is the largest norm over the ring's steps after
        `since` (the step of the record read before; `None`: every row), inf
        if a step there was NaN; `non_finite` counts those steps whose
        gradient held a NaN or Inf. Under loss scaling, overflowing steps
        are the loss scaler's business (it skips them): they are left out
        of both.
        """
        count = len(self.gradient_layers)
        part = np.asarray(vector[: self.gradient_size], "float64")
        halves = part[1 : 1 + 3 * count].reshape(3, count)
        ring = part[1 + 3 * count :].reshape(self.ring_rows, count)
        if since is not None:
            step = int(part[0])
            first = max(since + 1, step - self.ring_rows + 1, 0)
            ring = ring[np.arange(min(first, step), step + 1) % self.ring_rows]
        finite = np.isfinite(ring)
        if self.loss_scaled:
            peaks = np.where(finite, ring, 0.0)
            non_finite = np.zeros(count)
        else:
            peaks = np.where(np.isnan(ring), np.inf, ring)
            non_finite = (~finite).sum(axis=0).astype("float64")
        with np.errstate(invalid="ignore"):
            norm, weight_norm, update_norm = np.sqrt(2.0 * halves)
            peak = np.sqrt(2.0 * peaks.max(axis=0))
        columns = dict(zip(GRADIENT_COLUMNS, (norm, peak, non_finite, weight_norm, update_norm)))
        return int(part[0]), columns

    def activation_snapshot(self, vector):
        """Host side: (step, [per-capture packed statistics vectors])."""
        start = self.gradient_size
        part = np.asarray(vector[start : start + self.activation_size])
        size = _statistics.statistics_size(self.bins)
        return int(part[0]), [part[1 + i * size : 1 + (i + 1) * size] for i in range(len(self.captures))]
