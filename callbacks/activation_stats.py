"""The `ActivationStats` callback: per-layer activation statistics in `fit`."""

import os

import numpy as np
import pandas as pd

from keras_recipes.callbacks import _layers
from keras_recipes.callbacks import _monitor
from keras_recipes.callbacks import _plots
from keras_recipes.callbacks import _requests
from keras_recipes.callbacks import _statistics
from keras_recipes.callbacks import _tensorboard
from keras_recipes.recipes import _validation


class ActivationStats(_monitor.Monitor):
    """Records activation statistics of every layer from inside `model.fit`.

    For each layer with an activation (a layer's `activation` argument, or an
    `Activation`/`ReLU`/`Softmax`... layer; a `TimeDistributed` layer's inner
    layer; a `Bidirectional` layer that concatenates its two directions) of
    the model and of the models nested in it, the callback records, every
    `every_n_batches` training steps, the mean, std, min and max of its
    output, the fraction of saturated units (sigmoid outputs below 0.01 or
    above 0.99, tanh outputs beyond +-0.99; for a softmax, the fraction of
    examples whose largest output is above 0.99; NaN for other activations), the
    fraction of dead units (ReLU units or channels that are <= 0 for every
    example of the batch, GELU/SiLU/mish/ELU/SELU/softplus units whose every
    output lies on the flat tail where the slope is under 0.01; NaN for other
    activations) and a histogram. The
    sublayers of a user-defined layer (a `keras.layers.Layer` subclass that
    holds Dense layers, such as a residual block) are watched too, however
    deep; the layer's own output is watched if it has an `activation`.
    Dead units are counted along the channel axis of a `channels_first`
    layer, and of a standalone `ReLU`/`Activation` layer fed by one.

    The numbers come from the training step's own forward pass, computed
    inside the compiled step: no extra forward pass, nothing added to `logs`,
    and the model is left exactly as it was when training ends. Histograms
    look at the first 65536 values of a layer's output. Under a distribution
    strategy the statistics are those of the first replica's share of the
    batch. With `steps_per_execution > 1`, the last logging step of each
    execution is recorded.

    Args:
        every_n_batches: Record every this many training steps (steps are
            counted from 0 across epochs, so step 0 is always recorded).
            Defaults to `100`.
        layers: Names of the layers to watch, or `None` for every layer with
            an activation. Defaults to `None`.
        histogram_bins: Number of histogram bins. Defaults to `40`.
        max_records: At most this many logged steps are kept; beyond it,
            every other record is dropped (the first is always kept).
            Defaults to `1000`.
        log_dir: If set, TensorBoard scalars and histograms are written
            there, from the host. Their step is the optimizer's step count
            (`optimizer.iterations`, as Keras's `TensorBoard` callback
            counts), so a later fit continues the curves; `to_dataframe()`
            counts steps from 0 in each fit. Defaults to `None`.

    Example:

    >>> stats = ActivationStats(every_n_batches=5)
    >>> model.fit(x, y, epochs=2, callbacks=[stats])  # doctest: +SKIP
    >>> stats.to_dataframe().groupby("layer")["std"].last()  # doctest: +SKIP
    """

    _kind = "activations"

    def __init__(
        self,
        every_n_batches=100,
        layers=None,
        histogram_bins=40,
        max_records=1000,
        log_dir=None,
    ):
        super().__init__(every_n_batches, max_records)
        self.layers = _layers.check_names(layers)
        self.histogram_bins = _validation.check_positive_int("histogram_bins", histogram_bins)
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(
                "`log_dir` must be a folder path. Expected a string, a path or None. "
                f"Received: log_dir={log_dir!r}"
            )
        self.log_dir = log_dir
        self._labels = []
        self._writer = None

    def _request(self):
        return _requests.ActivationRequest(self.every_n_batches, self.layers, self.histogram_bins)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._labels = []
        if self.log_dir is not None:
            self._writer = _tensorboard.Writer(self.log_dir)
        optimizer = getattr(self.model, "optimizer", None)
        # `.numpy()`, not `keras.ops.convert_to_numpy`: NumPy 2 warns when
        # that converts a variable (a mirrored one under a distribution strategy too).
        self._first_iteration = int(optimizer.iterations.numpy()) if optimizer is not None else 0

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _record(self, vector):
        layout = self._core.layout
        step, packed = layout.activation_snapshot(vector)
        if step < 0:
            return None
        self._labels = list(layout.captures)
        record = {"step": step, "epoch": self._epoch, "packed": packed}
        if self._writer is not None:
            self._writer.activations(self._first_iteration + step, self._rows([record]),
                                     self._histogram_rows([record]))
        return record

    def to_dataframe(self):
        """Returns the statistics as a long table, one row per (step, layer).

        Returns:
            A `pandas.DataFrame` with columns `step`, `epoch`, `layer`,
            `activation`, `mean`, `std`, `min`, `max`, `saturated_fraction`,
            `dead_fraction`.
        """
        columns = ["step", "epoch", "layer", "activation", *_statistics.STATISTIC_NAMES]
        table = pd.DataFrame(self._rows(self._records), columns=columns)
        if table.empty:  # the dtypes a filled table has
            table = table.astype({
                "step": "int64", "epoch": "int64", "layer": "str", "activation": "str",
                **{name: "float64" for name in _statistics.STATISTIC_NAMES},
            })
        return table

    def histograms(self, layer=None):
        """Returns the recorded histograms, one row per (step, layer).

        Args:
            layer: Keep only this layer's rows. Defaults to `None` (all).

        Returns:
            A `pandas.DataFrame` with columns `step`, `epoch`, `layer`,
            `edges` (an array of `histogram_bins + 1` bin edges) and `counts`
            (an array of `histogram_bins` counts).
        """
        table = pd.DataFrame(
            self._histogram_rows(self._records),
            columns=["step", "epoch", "layer", "edges", "counts"],
        )
        if layer is not None:
            table = table[table["layer"] == layer].reset_index(drop=True)
        return table

    def plot(self):
        """Returns a matplotlib figure: each layer's latest histogram, and the
        histograms over time (the "colorful dimension" view)."""
        return _plots.activation_figure(self.histograms())

    def _rows(self, records):
        rows = []
        for record in records:
            for (label, activation), packed in zip(self._labels, record["packed"]):
                stats, _, _ = _statistics.unpack_statistics(packed, self.histogram_bins)
                rows.append(
                    [record["step"], record["epoch"], label, activation, *stats.values()]
                )
        return rows

    def _histogram_rows(self, records):
        rows = []
        for record in records:
            for (label, _), packed in zip(self._labels, record["packed"]):
                _, (low, high), counts = _statistics.unpack_statistics(packed, self.histogram_bins)
                edges = np.linspace(low, high, self.histogram_bins + 1)
                rows.append([record["step"], record["epoch"], label, edges, np.array(counts)])
        return rows

