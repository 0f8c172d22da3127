"""What to change for each finding kind, drawn from the seeds' lectures."""

# `{lr}` is replaced by the LR finder's suggestion when one is known.
ADVICE = {
    "vanishing_gradient": (
        "Use ReLU instead of sigmoid/tanh in the hidden layers with He "
        "initialization (Xavier/Glorot if you keep tanh/sigmoid), and put "
        "BatchNormalization between Dense and Activation."
    ),
    "exploding_gradient": (
        "Clip the gradients (e.g. `clipnorm=1.0` on the optimizer), lower the "
        "learning rate{lr}, and check the initialization scale (He for ReLU, "
        "Xavier for tanh/sigmoid)."
    ),
    "non_finite": (
        "Lower the learning rate{lr} and clip the gradients; check the inputs "
        "for NaN/Inf and standardize them; prefer losses with `from_logits=True`."
    ),
    "dead_relu": (
        "Use He initialization for ReLU and no negative bias initialization, "
        "lower the learning rate{lr}, put BatchNormalization between Dense and "
        "Activation, or use LeakyReLU."
    ),
    "saturated_activation": (
        "Use Xavier/Glorot initialization (smaller weights) for tanh/sigmoid, "
        "standardize the inputs, put BatchNormalization between Dense and "
        "Activation, or use ReLU instead of sigmoid in the hidden layers."
    ),
    "loss_not_decreasing": (
        "Raise the learning rate{lr}; check that the initial loss is at chance "
        "(`check_initial_loss`) and that the model can overfit a small sample "
        "(`overfit_small_batch`)."
    ),
    "oscillating_loss": (
        "Lower the learning rate{lr} or the momentum, or use a larger batch size."
    ),
    "diverging_loss": "Lower the learning rate{lr} and clip the gradients.",
    "overfitting": (
        "Regularize: dropout, L2 weight decay, more (or augmented) data, and "
        "stop at the best validation loss (EarlyStopping)."
    ),
    "underfitting": (
        "Use a bigger model (more units or layers), train longer, and reduce "
        "the regularization (a dropout rate above 0.5 leaves a layer too few "
        "units to learn from). If a linear model (e.g. logistic regression) "
        "does no better, the labels may be noisy: the loss may already be "
        "near what the data allows."
    ),
    "memorization": (
        "Check that the labels match the inputs: x and y shuffled together, "
        "the same label encoding in both splits, validation data from the "
        "training distribution (`validation_split` takes the last rows: "
        "shuffle sorted data first). The model memorizes the training "
        "examples but nothing it learned carries over; if the data are "
        "right, get more data and regularize (dropout, L2). After few steps, "
        "BatchNormalization's moving averages (momentum 0.99) may also still "
        "be far from the batch statistics: compare `model.evaluate` with the "
        "loss in training mode, or train longer."
    ),
    "invalid_loss": (
        "Check the label encoding against the loss: binary cross-entropy "
        "takes labels in [0, 1], `sparse_categorical_crossentropy` class ids "
        "0..C-1, `categorical_crossentropy` one-hot rows. A cross-entropy "
        "below 0 means the labels are outside that range, and the rest of "
        "the curve means nothing."
    ),
    "over_regularization": (
        "Lower the regularization 10-100x (the L2 factor of `kernel_regularizer`, "
        "or the optimizer's `weight_decay`): the penalty shrank the weights to "
        "almost nothing, so the model predicts about the same for every input. "
        "Seed 003 searches the L2 factor on a log scale with the learning rate."
    ),
    "needs_more_training": "Train longer: both losses are still going down.",
    "learning_rate_too_high": "Lower the learning rate{lr}, about 10x to start with.",
    "learning_rate_too_low": (
        "Raise the learning rate{lr}, about 10x to start with (seed 003 tries "
        "1e-1, 1e-2, 1e-3, 1e-4)."
    ),
}


def advice_for(kind, suggestion=None):
    """The advice for `kind`, naming the LR finder's suggestion if given."""
    lr = "" if suggestion is None else f" (the LR finder suggests {suggestion:.3g})"
    return ADVICE[kind].format(lr=lr)
