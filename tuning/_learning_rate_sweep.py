"""The result of a learning-rate sweep and its suggestions (pure functions)."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# The first points of a debiased EMA still follow single batches; the
# steepest-descent suggestion ignores them.
_STEEPEST_SKIP = 0.1


class LearningRateFinderResult:
    """The losses of a learning-rate sweep and the suggested learning rates.

    Attributes:
        learning_rates: The learning rate of each step.
        losses: Each batch's own loss.
        smoothed_losses: The debiased EMA of `losses`.
        suggestions: `{"steepest": lr, "valley": lr}` (values are `None` when
            the sweep was too short to tell).
        suggestion: The "valley" suggestion, or "steepest" when there is no
            valley.
    """

    def __init__(self, learning_rates, losses, smoothing):
        self.learning_rates = np.asarray(learning_rates, dtype="float64")
        self.losses = np.asarray(losses, dtype="float64")
        self.smoothed_losses = smooth(self.losses, smoothing)
        self.suggestions = {
            "steepest": _pick(self.learning_rates, steepest_index(self.smoothed_losses, self.learning_rates)),
            "valley": _pick(self.learning_rates, valley_index(self.smoothed_losses)),
        }
        self.suggestion = self.suggestions["valley"] or self.suggestions["steepest"]

    def to_dataframe(self):
        """One row per step: `learning_rate`, `loss`, `smoothed_loss`."""
        return pd.DataFrame(
            {
                "learning_rate": self.learning_rates,
                "loss": self.losses,
                "smoothed_loss": self.smoothed_losses,
            }
        )

    def plot(self):
        """The smoothed loss against the log learning rate, with the suggestions."""
        figure = Figure(figsize=(6, 4))
        axis = figure.subplots()
        axis.plot(self.learning_rates, self.losses, alpha=0.3, label="batch loss")
        axis.plot(self.learning_rates, self.smoothed_losses, label="smoothed loss")
        for name, marker in (("steepest", "o"), ("valley", "s")):
            value = self.suggestions[name]
            if value is not None:
                loss = np.interp(value, self.learning_rates, self.smoothed_losses)
                axis.plot([value], [loss], marker, label=f"{name}: {value:.3g}")
        axis.set_xscale("log")
        axis.set_xlabel("learning rate")
        axis.set_ylabel("loss")
        axis.legend()
        figure.tight_layout()
        return figure

    def __repr__(self):
        return (
            f"LearningRateFinderResult(steps={len(self.losses)}, "
            f"suggestion={self.suggestion!r})"
        )


def smooth(losses, beta):
    """Debiased exponential moving average of `losses`."""
    smoothed, average = [], 0.0
    for step, loss in enumerate(losses):
        average = beta * average + (1.0 - beta) * loss
        smoothed.append(average / (1.0 - beta ** (step + 1)))
    return np.asarray(smoothed)


def steepest_index(smoothed, learning_rates):
    """Index of the most negative slope d loss / d log10(lr) before the minimum."""
    finite = np.isfinite(smoothed)
    end = int(np.argmin(np.where(finite, smoothed, np.inf))) + 1
    start = int(len(smoothed) * _STEEPEST_SKIP)
    if end - start < 3:
        return None
    slopes = np.gradient(smoothed[start:end], np.log10(learning_rates[start:end]))
    return start + int(np.argmin(slopes))


def valley_index(smoothed):
    """The middle of the longest run over which the smoothed loss keeps falling.

    The "valley" rule (after fastai): where the loss goes down the longest,
    the learning rate is both large and safe. A contiguous run on the smoothed
    curve ignores the noise of the flat start that a descending subsequence
    would collect.
    """
    best_start, best_end, start = 0, 0, 0
    for i in range(1, len(smoothed)):
        if not smoothed[i] <= smoothed[i - 1]:
            start = i
        elif i - start > best_end - best_start:
            best_start, best_end = start, i
    if best_end - best_start < 2:
        return None
    return best_start + (best_end - best_start) // 2


def _pick(learning_rates, index):
    return None if index is None else float(learning_rates[index])
