"""Where each number lives in the monitors' one packed statistics vector.

Layout: the gradient part, then the activation part (each present only when
a monitor asked for it).

- Gradient part, for L layers: the snapshot of the last logging step: its
  step, grad_norm, grad_norm_max, non_finite, weight_norm, update_norm
  (1 + 5L). (The max and non-finite steps since the previous record come
  from a device-side ring of every step's sums that the host never reads.)
- Activation part: the last logging step, then the `stacked_statistics`
  vector of the watched layer calls (one part per call).
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

    @property
    def gradient_size(self):
        if not self.has_gradients:
            return 0
        return 1 + len(GRADIENT_COLUMNS) * len(self.gradient_layers)

    @property
    def gradient_slice(self):
        return 0, self.gradient_size

    @property
    def activation_slice(self):
        start = self.gradient_size
        if not self.has_activations:
            return start, start
        size = 1 + len(self.captures) * _statistics.statistics_size(self.bins)
        return start, start + size

    def initial_vector(self):
        vector = np.zeros(self.activation_slice[1], "float32")
        if self.has_gradients:
            vector[0] = -1.0
        if self.has_activations:
            vector[self.activation_slice[0]] = -1.0
        return vector

    def gradient_snapshot(self, vector):
        """Host side: (step, {column: per-layer array}) of the last logging step."""
        snapshot = np.asarray(vector[: self.gradient_size])
        count = len(self.gradient_layers)
        columns = np.asarray(snapshot[1:]).reshape(len(GRADIENT_COLUMNS), count)
        return int(snapshot[0]), dict(zip(GRADIENT_COLUMNS, columns))

    def activation_snapshot(self, vector):
        """Host side: (step, [per-capture packed statistics vectors])."""
        start, stop = self.activation_slice
        part = np.asarray(vector[start:stop])
        size = _statistics.statistics_size(self.bins)
        return int(part[0]), [part[1 + i * size : 1 + (i + 1) * size] for i in range(len(self.captures))]
