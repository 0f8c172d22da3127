"""GPU set-up shared by every process of a search."""

import tensorflow as tf


def enable_memory_growth():
    """Lets TensorFlow take GPU memory as it needs it, not all of it at once.

    Needed when trials share a GPU or a worker shares a machine. It must run
    before the first GPU operation; once the GPUs are initialized TensorFlow
    refuses the change, which is then left as it was.

    Returns:
        The number of GPUs visible to this process.
    """
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # Already initialized (e.g. a model was built before): keep its setting.
            pass
    return len(gpus)
