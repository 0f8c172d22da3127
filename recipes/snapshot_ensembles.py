"""Ensembles from one training run: weight snapshots, and the running average of the parameters.

- Different checkpoints of one run: the `SnapshotEnsemble` callback, best with
  `cyclic_cosine_learning_rate` (Huang et al., 2017, "Snapshot Ensembles").
- A running average of the parameters: Keras' own EMA, set up by `with_weight_averaging` (an
  optimizer with `use_ema=True`), with `keras.callbacks.SwapEMAWeights` for validation.
"""

from collections.abc import Iterable

import keras

from keras_recipes.recipes._validation import (
    check_positive,
    check_positive_int,
    check_rate,
    short_repr,
)
from keras_recipes.recipes.ensembles import ensemble
from keras_recipes.recipes.optimizers import OPTIMIZERS, _load


def cyclic_cosine_learning_rate(initial_learning_rate, steps_per_cycle):
    """The snapshot-ensemble learning rate: cosine annealing to 0, restarted each cycle.

    `lr(step) = initial_learning_rate / 2 * (cos(pi * (step mod steps_per_cycle)
    / steps_per_cycle) + 1)` (Huang et al., 2017), i.e. Keras'
    `CosineDecayRestarts` with cycles of equal length and height.

    Args:
        initial_learning_rate: The learning rate at the start of each cycle, > 0.
        steps_per_cycle: Optimizer steps per cycle (epochs per cycle times
            steps per epoch), an integer >= 1.

    Returns:
        A `keras.optimizers.schedules.CosineDecayRestarts` schedule.

    Raises:
        ValueError: if an argument is not positive.

    Example:

    >>> schedule = cyclic_cosine_learning_rate(0.1, steps_per_cycle=100)
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """
    return keras.optimizers.schedules.CosineDecayRestarts(
        check_positive("initial_learning_rate", initial_learning_rate),
        first_decay_steps=check_positive_int("steps_per_cycle", steps_per_cycle),
        t_mul=1.0,
        m_mul=1.0,
        alpha=0.0,
    )


def is_snapshot_epoch(epoch, every=None, epochs=None):
    """Whether the weights after `epoch` (0-based, as Keras counts) are kept."""
    completed = epoch + 1
    if every is not None and completed % every == 0:
        return True
    return epochs is not None and completed in epochs


class SnapshotEnsemble(keras.callbacks.Callback):
    """Keeps copies of the model's weights at chosen epochs of one training run.

    With `cyclic_cosine_learning_rate` and `every` set to the epochs per cycle,
    each snapshot sits at the end of a cycle, where the learning rate is near
    zero, in a different local minimum: the members of a "Snapshot Ensemble"
    (Huang et al., 2017) at the cost of one run. Snapshots are held in memory
    as NumPy arrays; the model itself is never changed. Each `fit` starts a
    new list, so one instance can be reused across runs.

    Args:
        every: Keep the weights after every `every` completed epochs.
            Defaults to `None`.
        epochs: Keep the weights after these completed epochs (1-based).
            Defaults to `None`. Give `every`, `epochs` or both.

    Raises:
        ValueError: if neither is given, `every` is not a positive integer, or
            `epochs` is not a list of positive integers.

    Example:

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> snapshots = SnapshotEnsemble(every=2)
    >>> _ = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=4,
    ...               callbacks=[snapshots], verbose=0)
    >>> [epoch for epoch, _ in snapshots.snapshots]
    [2, 4]
    >>> ensemble_model = snapshots.ensemble()
    """

    def __init__(self, every=None, epochs=None):
        super().__init__()
        if every is None and not epochs:
            raise ValueError(
                "Give `every` (an integer >= 1) or `epochs` (a list of epoch numbers). "
                f"Received: every={every!r}, epochs={epochs!r}"
            )
        self.every = None if every is None else check_positive_int("every", every)
        self.epochs = None if epochs is None else _check_epoch_list(epochs)
        self.snapshots = []

    def on_train_begin(self, logs=None):
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        if is_snapshot_epoch(epoch, self.every, self.epochs):
            self.snapshots.append((epoch + 1, self.model.get_weights()))

    def members(self):
        """One model per snapshot: clones of the trained model holding its weights."""
        if not self.snapshots:
            raise ValueError(
                "No snapshots were taken: train with this callback for at least one snapshot "
                f"epoch first. Received: every={self.every}, epochs={self.epochs}"
            )
        return [_clone_with_weights(self.model, weights) for _, weights in self.snapshots]

    def ensemble(self, method="mean"):
        """The snapshots combined into one model by `ensemble(..., method)`."""
        return ensemble(self.members(), method=method, name="snapshot_ensemble")


def with_weight_averaging(optimizer="adam", momentum=0.99):
    """A copy of `optimizer` that keeps a running average (EMA) of the model's weights.

    This is Keras' own parameter averaging, `use_ema=True`: the optimizer
    updates `average = momentum * average + (1 - momentum) * weights` after
    every step, and at the end of `fit` Keras writes the average into the
    model. Add `keras.callbacks.SwapEMAWeights()` to `fit` so validation also
    uses the averaged weights (`swap_on_epoch=True` before a `ModelCheckpoint`
    saves them).

    Args:
        optimizer: A Keras optimizer instance, a Keras optimizer name or one of
            `OPTIMIZERS` (e.g. `"momentum"`, `"radam"`, at the class's default
            learning rate). Its settings are copied; the instance itself is
            not changed. Defaults to `"adam"`.
        momentum: The averaging momentum in [0, 1); about `1 / (1 - momentum)`
            recent steps dominate the average. Defaults to `0.99`.

    Returns:
        A new, unbuilt optimizer of the same class with `use_ema=True`.

    Raises:
        ValueError: if `momentum` is outside [0, 1).

    Example:

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=with_weight_averaging("sgd", momentum=0.9), loss="mse")
    >>> _ = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=2, verbose=0,
    ...               callbacks=[keras.callbacks.SwapEMAWeights()])
    """
    momentum = check_rate("momentum", momentum)
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        # The seeds' names (also "momentum", "nesterov", "radam"), at the
        # class's own default learning rate.
        path, defaults = OPTIMIZERS[optimizer]
        optimizer = _load(path)(**defaults)
    optimizer = keras.optimizers.get(optimizer)
    config = {**optimizer.get_config(), "use_ema": True, "ema_momentum": momentum}
    return optimizer.__class__.from_config(config)


def _check_epoch_list(epochs):
    if isinstance(epochs, str) or not isinstance(epochs, Iterable):
        raise ValueError(
            "Invalid value for argument `epochs`: expected a list of epoch numbers "
            "(integers >= 1); for every n-th epoch use `every=n`. "
            f"Received: epochs={short_repr(epochs)}"
        )
    return {check_positive_int("epochs", epoch) for epoch in epochs}


def _clone_with_weights(model, weights):
    clone = keras.models.clone_model(model)
    clone.set_weights(weights)
    return clone
