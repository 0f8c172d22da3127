"""The loss at the start of a fit, from Keras' running means of the first batches.

Keras logs the mean loss of the epoch so far after each batch. The start is
the mean over the first `START_BATCHES` steps: one batch is too noisy with
small batch sizes (a regression's batch of 32 varies by about a quarter).
But a learning rate far too high blows the loss up within those steps (Adam
0.5 on a digits MLP: the first batch at 3, the mean of ten at 12,101), and
a start measured there makes every later epoch look like progress. So when a
step's loss within them went `BLOW_UP` times above the first step's, the
start is the first step's loss: the loss of the weights before any update.
"""

import math

#: The start is the mean over this many first steps ...
START_BATCHES = 10
#: ... unless one of them went this many times above the first step's loss.
BLOW_UP = 10.0


class StartLoss:
    """Follows the running mean of a fit's first epoch, batch by batch."""

    def __init__(self):
        self.value = None
        self._steps, self._mean, self._first, self._peak = 0, 0.0, None, -math.inf

    def update(self, batch, running_mean):
        """Takes the running mean logged after `batch` (the batch's last step
        with several steps per batch)."""
        if self.value is not None and batch >= START_BATCHES:
            return
        steps = batch + 1
        if steps > self._steps:
            # The mean of the steps since the last batch, from the two running means.
            chunk = (steps * running_mean - self._steps * self._mean) / (steps - self._steps)
            if self._first is None:
                self._first = chunk
            self._peak = max(self._peak, chunk)
        self._steps, self._mean = steps, running_mean
        blown_up = (self._first is not None and self._first > 0 and math.isfinite(self._peak)
                    and self._peak > BLOW_UP * self._first)
        self.value = self._first if blown_up else running_mean
