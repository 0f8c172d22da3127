"""TensorBoard events written from the host, with explicit steps."""

import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

_STATISTICS = ("mean", "std", "saturated_fraction", "dead_fraction")


class Writer:
    """Writes the monitors' records as TensorBoard scalars and histograms."""

    def __init__(self, log_dir):
        self._writer = tf.summary.create_file_writer(str(log_dir))

    def activations(self, step, rows, histogram_rows):
        """`rows` as in `ActivationStats._rows`; histograms as `_histogram_rows`."""
        with self._writer.as_default(step=step):
            for row in rows:
                layer, values = row[2], dict(zip(("mean", "std", "min", "max",
                                                  "saturated_fraction", "dead_fraction"), row[4:]))
                for name in _STATISTICS:
                    if np.isfinite(values[name]):
                        tf.summary.scalar(f"activations/{layer}/{name}", values[name])
            for _, _, layer, edges, counts in histogram_rows:
                self._histogram(f"activations/{layer}", edges, counts, step)
        self._writer.flush()

    def _histogram(self, tag, edges, counts, step):
        # TensorBoard's histogram format: rows of (left edge, right edge, count).
        buckets = np.stack([edges[:-1], edges[1:], counts], axis=1).astype("float64")
        metadata = histogram_metadata.create_summary_metadata(display_name=tag, description="")
        tf.summary.write(tag, tf.constant(buckets), step=step, metadata=metadata)

    def close(self):
        self._writer.close()
