import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TF turns oneDNN on by default only on some CPUs (off on this AMD EPYC
# without AVX-512). Without it, a channels_first Conv2D does not run on a CPU
# at all ("Conv2D op currently only supports NHWC"); with it the tests see
# the same numerics on every machine they run on.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.tuning import _graph_release  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state, and a clean Keras session."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(1234)
    # TF keeps every graph a fit traced for the whole process (see
    # `keras_recipes.tuning._graph_release`); dropping them after each test
    # keeps the heap small, so the later tests' full gc passes (keras-tuner
    # runs one before each trial) stay fast.
    with _graph_release.released_graphs():
        yield
    keras.config.set_dtype_policy("float32")
    # Without the gc pass (about 0.4 s a test); the graph and name counters still reset.
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's embedded 8x8 digits, scaled to [0, 1], split 75/25."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


# The longest tests (subprocesses with their own TensorFlow, real searches)
# start first, so the workers of `pytest -n` do not end on one of them.
_LONGEST_FIRST = (
    "tests/tuning/test_distributed.py",
    "tests/tuning/test_resume.py",
    "tests/test_readme.py",
    "tests/tuning/test_coarse_to_fine_search.py",
    "tests/callbacks/test_instrumentation.py::test_mirrored_strategy_two_cpus",
    "tests/callbacks/test_activation_study.py",
    "tests/cli/",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        for i, prefix in enumerate(_LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each group is kept


class _TraceCounter(keras.layers.Dense):
    """A Dense layer that counts the training-step traces it appears in."""

    traces = 0

    def call(self, inputs, training=None):
        if training and not tf.executing_eagerly():
            _TraceCounter.traces += 1
        return super().call(inputs)


@pytest.fixture
def trace_counter():
    """A Dense layer class whose `traces` counts training-step traces (reset here)."""
    _TraceCounter.traces = 0
    return _TraceCounter
