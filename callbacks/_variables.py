"""Variables the instrumentation makes: outside the step's graph, and
replica-local under a distribution strategy."""

import numpy as np
import tensorflow as tf


def initial_shadow(weight):
    # Before the first trace the weights can be read: the shadows start equal
    # to them. Weights a subclassed model builds inside the trace cannot be
    # read yet: those shadows are filled at step 0 (see `Instrumentation._apply`).
    if tf.executing_eagerly():
        return np.asarray(weight.numpy(), "float32")
    return np.zeros(weight.shape, "float32")


def create_once(create):
    # Variables are created outside the step's graph, and in cross-replica
    # context under a distribution strategy (replicas reach this together).
    context = tf.distribute.get_replica_context()
    if context is not None and tf.distribute.has_strategy():
        context.merge_call(lambda *_: create())
    else:
        create()


def make_variable(model, value, shape=None):
    strategy = model.distribute_strategy
    with tf.init_scope(), strategy.scope():
        if tf.distribute.has_strategy():
            return tf.Variable(
                value,
                trainable=False,
                shape=shape,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        return tf.Variable(value, trainable=False, shape=shape)
