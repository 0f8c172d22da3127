"""What the curve rules measure losses against, and on which epochs.

`LossScale` holds the reference (chance level, or the loss at the start),
the chance level and the perfect loss; `usable_perfect` says which perfect
loss a scale can use. `_validated` picks the validated epochs and
`_window_drop` measures how much a window of the last epochs improved, for
`_curve_rules` and `_oscillation_rules` alike.
"""

from typing import NamedTuple

import numpy as np


class LossScale(NamedTuple):
    """What the curve rules measure losses against.

    `reference` is the chance level (or the loss at the start), `chance` the
    chance level or `None`, `perfect` the loss of a perfect prediction (see
    `_chance_level.perfect_loss`): a loss is read as its part above
    `perfect`, a change in units of `reference - perfect`.
    """

    reference: float
    chance: float = None
    perfect: float = 0.0

    @property
    def unit(self):
        return self.reference - self.perfect

    def above(self, loss):
        """How far `loss` is above the perfect loss."""
        return loss - self.perfect

    def level(self, fraction, top):
        """The loss `fraction` of the way from the perfect loss up to `top`."""
        return self.perfect + fraction * (top - self.perfect)


def usable_perfect(perfect, reference):
    """`perfect` if it is a floor below `reference`, else 0 (a weighted loss,
    or a chance level given for one, may sit below the entropy of the targets)."""
    return float(perfect) if perfect and 0.0 < perfect < reference else 0.0


def _validated(loss, val):
    """(training losses, validation losses, epoch numbers) of the epochs that
    were validated (all of them unless `fit` had `validation_freq` > 1)."""
    epochs = np.flatnonzero(np.isfinite(val))
    return loss[epochs], val[epochs], epochs


def _window_drop(values, w):
    """How much lower the best of the last `w` epochs is than the best before
    (robust to a single noisy epoch at either end)."""
    return float(np.min(values[:-w]) - np.min(values[-w:]))
