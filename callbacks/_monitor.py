"""The host-side bookkeeping the two monitors share."""

import keras

from keras_recipes.callbacks import _instrumentation
from keras_recipes.recipes import _validation


class Monitor(keras.callbacks.Callback):
    """Base class: attaches to the shared instrumentation and keeps records.

    Subclasses set `_kind`, build their request in `_request()`, turn a
    packed vector into a record in `_record(vector)` (or return `None`), and
    may override `_merge(older, newer)`, used to halve the records when there
    are more than `max_records`. Halving also doubles the stride at which
    later records are kept (the others are merged into the last kept one),
    so the kept records stay evenly spaced over the whole fit.
    """

    _kind = None

    def __init__(self, every_n_batches, max_records):
        super().__init__()
        _validation.check_positive_int("every_n_batches", every_n_batches)
        if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 2:
            raise ValueError(
                "Invalid value for argument `max_records`: expected an integer >= 2. "
                f"Received: max_records={max_records!r}"
            )
        self.every_n_batches = every_n_batches
        self.max_records = max_records
        self._records, self._received, self._stride = [], 0, 1
        self._core = None

    def on_train_begin(self, logs=None):
        self._records, self._received, self._stride = [], 0, 1
        self._epoch, self._begin, self._batches, self._last_step = 0, 0, 0, -1
        self._core = _instrumentation.attach(self.model, self._kind, self._request(), self)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._begin = batch

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._core is None:
            return
        vector = self._core.poll(self._kind, self._batches, self._begin, batch)
        if vector is not None:
            record = self._record(vector)
            if record is not None and record["step"] != self._last_step:
                self._last_step = record["step"]
                self._append(record)
        self._after_batch(logs or {})

    def on_train_end(self, logs=None):
        if self._core is not None:
            self._core.detach(self)
            self._core = None

    def _append(self, record):
        received, self._received = self._received, self._received + 1
        if received % self._stride:
            self._records[-1] = self._merge(self._records[-1], record)
            return
        self._records.append(record)
        if len(self._records) > self.max_records:
            self._stride *= 2
            pairs = zip(self._records[0::2], self._records[1::2])
            thinned = [self._merge(older, newer) for older, newer in pairs]
            if len(self._records) % 2:
                thinned.append(self._records[-1])
            self._records = thinned

    def _merge(self, older, newer):
        return older

    def _after_batch(self, logs):
        pass

    def _request(self):
        raise NotImplementedError

    def _record(self, vector):
        raise NotImplementedError
