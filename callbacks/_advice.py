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
    # `dead_relu` of a layer whose weights are frozen (`trainable=False`).
    "frozen_dead_relu": (
        "The layer making these units' inputs is frozen (`trainable=False`, "
        "see `frozen_layers`): no learning rate, initializer or optimizer "
        "setting moves its weights, and dead units pass no gradient back, so "
        "training cannot revive them. If it is pre-trained, check that the "
        "inputs are preprocessed as they were when it was trained (the same "
        "scaling and normalization: units dead on every example usually mean "
        "inputs of another scale) and that the right weights were loaded. "
        "Otherwise re-initialize it (He initialization, no negative bias) and "
        "unfreeze it (`layer.trainable = True`, then compile again), or build "
        "on the layers before it."
    ),
    "saturated_activation": (
        "Use Xavier/Glorot initialization (smaller weights) for tanh/sigmoid, "
        "standardize the inputs, put BatchNormalization between Dense and "
        "Activation, or use ReLU instead of sigmoid in the hidden layers."
    ),
    # `saturated_activation` of a hidden softmax (its largest output above
    # 0.99 on most examples).
    "saturated_softmax": (
        "This hidden softmax puts almost all its weight on one output (above "
        "0.99) for most examples, where it passes almost no gradient back "
        "(every entry of its Jacobian is below 0.01): its inputs (logits) are "
        "too large. Use Glorot initialization (smaller weights) in the layer "
        "that feeds it, standardize the inputs, divide the logits by a "
        "temperature (attention divides them by the square root of the key "
        "size), or put LayerNormalization before it."
    ),
    "loss_not_decreasing": (
        "Raise the learning rate{lr}; check that the initial loss is at chance "
        "(`check_initial_loss`) and that the model can overfit a small sample "
        "(`overfit_small_batch`)."
    ),
    # `loss_not_decreasing` of a model without trainable weights.
    "nothing_trainable": (
        "The model has no trainable weights, so nothing can learn, whatever "
        "the learning rate: set `trainable = True` on the layers to train "
        "(`model.trainable = False` freezes all of them; to fine-tune a frozen "
        "base, add a trainable head or unfreeze its top layers) and compile "
        "again, since `trainable` is read when the model is compiled."
    ),
    "oscillating_loss": (
        "Lower the learning rate{lr} or the momentum, or use a larger batch size."
    ),
    "diverging_loss": "Lower the learning rate{lr} and clip the gradients.",
    # `oscillating_loss` of a training loss that spiked and came back.
    "loss_spikes": (
        "The training loss spiked and came back: some steps were too big for "
        "where the weights had got to. Clip the gradients (`clipnorm=1.0` on "
        "the optimizer), lower the learning rate{lr} or decay it over training, "
        "or use a larger batch size. Under Adam, a larger `epsilon` (e.g. "
        "1e-4) also damps the steps of weights whose gradients were near 0. "
        "If a spike came late, keep the best weights "
        "(`EarlyStopping(restore_best_weights=True)` or `ModelCheckpoint`)."
    ),
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
    # `underfitting` of a training loss that never went below chance.
    "unpaired_labels": (
        "First check that the inputs and labels are paired: the training "
        "loss never went below chance, so the model found nothing in x that "
        "predicts y, which even a small model does on a learnable problem. "
        "Shuffle x and y together (one permutation for both), and in "
        "`tf.data` zip x and y before shuffling (`Dataset.from_tensor_slices((x, y)).shuffle(...)`, "
        "not two datasets shuffled apart); check that the label encoding is "
        "the same in every split. If they are paired, the features may not "
        "predict the labels, or the model cannot learn: reduce the "
        "regularization (a dropout rate above 0.5 leaves a layer too few "
        "units to learn from), then use a bigger model (more units or "
        "layers) and train longer."
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
    "loss_output_mismatch": (
        "Make the loss read the output as what it is: keep the output linear "
        "and pass `from_logits=True` to the loss (preferred: numerically "
        "stable), e.g. `keras.losses.SparseCategoricalCrossentropy(from_logits=True)` "
        "for `Dense(10)`; or end with `activation=\"softmax\"` (\"sigmoid\" for "
        "a binary loss) and keep `from_logits=False`. The focal cross-entropies "
        "apply their own sigmoid/softmax under `from_logits=True`: give them a "
        "linear output. Every curve of this run measures another loss."
    ),
    # `loss_output_mismatch` of a regression output whose activation's
    # range leaves out the targets.
    "output_range": (
        "Make the output able to reach the targets: end with a linear output "
        "(no activation) for values of any sign and size, or scale the "
        "targets into the activation's range (e.g. min-max to [0, 1] for a "
        "sigmoid, and back for predictions). Outside its range the loss "
        "cannot fall, whatever the rest of the network learns."
    ),
    "over_regularization": (
        "Lower the regularization 10-100x (the L2 factor of `kernel_regularizer`, "
        "or the optimizer's `weight_decay`): the penalty shrank the weights to "
        "almost nothing, so the model predicts about the same for every input. "
        "Seed 003 searches the L2 factor on a log scale with the learning rate."
    ),
    "needs_more_training": "Train longer: both losses are still going down.",
    # `needs_more_training` of a loss that falls by little, but every epoch
    # and no slower than before (which `underfitting` took for a plateau).
    "slow_progress": (
        "Train longer: the loss falls by little, but every epoch and no slower "
        "than before, so training is still under way, not stuck on a plateau "
        "(a bigger model would not help yet). To get there in fewer epochs, "
        "raise the learning rate{lr} (3-10x), or use momentum "
        "(`SGD(momentum=0.9)`) or Adam: plain SGD with a small rate crawls "
        "through the first epochs."
    ),
    "learning_rate_too_high": "Lower the learning rate{lr}, about 10x to start with.",
    # `learning_rate_too_high` whose big first steps killed the ReLUs.
    "units_killed": (
        "Lower the learning rate{lr}, about 10x to start with, or warm it up "
        "over the first epoch: the ReLU units were alive at the start and the "
        "first, too big steps pushed every pre-activation below 0, where no "
        "gradient brings them back (the dead units are a consequence). "
        "Gradient clipping (`clipnorm=1.0`), BatchNormalization or LeakyReLU "
        "make them harder to kill."
    ),
    "learning_rate_too_low": (
        "Raise the learning rate{lr}, about 10x to start with (seed 003 tries "
        "1e-1, 1e-2, 1e-3, 1e-4)."
    ),
    # `learning_rate_too_low` of a slow but steady curve whose weights hardly
    # move in an epoch.
    "learning_rate_crawls": (
        "Raise the learning rate{lr}, about 10x to start with (seed 003 tries "
        "1e-1, 1e-2, 1e-3, 1e-4), or use momentum (`SGD(momentum=0.9)`) or "
        "Adam. The loss falls at the same small pace every epoch because each "
        "epoch moves the weights by a tiny fraction of their norm: training "
        "longer at this rate would take hundreds of epochs, and a bigger model "
        "would not help."
    ),
    # `learning_rate_too_low` whose steps were big enough in the first epoch.
    "learning_rate_decayed": (
        "The steps shrank to almost nothing during training: the learning-rate "
        "schedule decays too fast. Decay more slowly (more `decay_steps`, a "
        "`decay_rate` nearer 1) or not below a floor (e.g. 1% of the initial "
        "rate), and check that no callback (`ReduceLROnPlateau`, "
        "`LearningRateScheduler`) cuts the rate to nothing."
    ),
    # `vanishing_gradient` of a layer that gets no gradient at all.
    "zero_gradient": (
        "No gradient reaches this layer's weights (its gradient norm is 0), so "
        "no learning rate can move them. The units after it may be dead: a "
        "ReLU applied inside a layer's `call` (`keras.ops.relu`) is not "
        "watched, check its bias initialization and the size of the first "
        "steps. Or the backward path is cut: an op without a gradient "
        "(`argmax`, `round`, a cast to an integer type) or a `stop_gradient`."
    ),
    # `dead_relu` of a GELU/SiLU/ELU/softplus... layer: its units sit on the
    # activation's flat tail (`_activation_kinds.FLAT_TAILS`), named first.
    "dead_flat_tail": (
        "for every example, so they pass almost no gradient back and no "
        "learning rate revives them. Find what pushes the pre-activations "
        "that far below 0: a negative bias initialization (use zeros), an "
        "initialization or input scale too large (He initialization, "
        "standardized inputs); or put BatchNormalization (or "
        "LayerNormalization) before the activation to keep its inputs "
        "centred."
    ),
    # `dead_relu` of a layer without gradient whose outputs are all below 0:
    # the ReLU after it is applied in a layer's `call`.
    "dead_relu_in_call": (
        "Every output of this layer is below 0 and no gradient reaches "
        "its weights: the ReLU applied to it inside a layer's `call` "
        "(`keras.ops.relu`, which the monitors do not see as an activation) "
        "outputs 0 for every example and passes no gradient back. Check the "
        "bias initialization (no negative constant) and use He "
        "initialization; lower the learning rate{lr} if the units died after "
        "the first steps; or use `keras.ops.leaky_relu`."
    ),
    # `overfitting` of a model with BatchNormalization whose validation loss
    # never went below chance.
    "batch_norm_statistics": (
        "Evaluate the training data in inference mode (`model.evaluate(x_train, "
        "y_train)`). A loss as high as the validation loss means "
        "BatchNormalization's moving statistics are far from the batch "
        "statistics it trains with, not memorization: use fewer, larger "
        "batches or more steps, a lower `momentum` on the BatchNormalization "
        "layers (e.g. 0.9 instead of 0.99), or a lower learning rate{lr}. A "
        "loss near the training loss means the model memorizes: check that "
        "the labels match the inputs and that the validation data come from "
        "the training distribution, then regularize."
    ),
    # `unscaled_inputs`: the first layer's outputs start far above the
    # scale standardized inputs give (`_input_scale_rules`).
    "unscaled_inputs": (
        "Standardize the inputs: put `keras_recipes.recipes.standardization(x_train)` "
        "(a `keras.layers.Normalization` adapted on the training data) first in "
        "the model, or scale them with scikit-learn's `StandardScaler` fitted on "
        "the training split; drop constant columns. Features hundreds of times "
        "their standardized scale make the first layer's steps as many times "
        "too big for some weights and too small for others: training is slow "
        "or unstable and ends worse than it would. (If the inputs are "
        "standardized, the first layer's initialization is far too large: "
        "use Glorot or He.)"
    ),
    # Put before the advice of findings that unscaled inputs bring about.
    "standardize_inputs": (
        "First standardize the inputs (the first layer's outputs start far "
        "above the scale standardized inputs give): "
        "`keras_recipes.recipes.standardization(x_train)` first in the model "
        "(a `keras.layers.Normalization`), and drop constant columns. Then:"
    ),
    # Put before the advice of findings that inputs far smaller than
    # standardized bring about (`_input_scale_rules.TINY_SCALE_CONSEQUENCES`).
    "standardize_tiny_inputs": (
        "First standardize the inputs (the first layer's outputs start far "
        "below the scale standardized inputs give: inputs that small give its "
        "weights gradients as many times smaller, and its biases alone set "
        "its outputs): `keras_recipes.recipes.standardization(x_train)` first "
        "in the model (a `keras.layers.Normalization`), or check the scaling "
        "(e.g. pixels divided by 255 twice). Then:"
    ),
    # Put before the advice of findings that raw regression targets bring about.
    "standardize_targets": (
        "First standardize the regression targets (their RMS is far above 1, "
        "so the first errors and gradients are huge): train on "
        "`(y - mean) / std` and map predictions back. Then:"
    ),
}


def advice_for(kind, suggestion=None):
    """The advice for `kind`, naming the LR finder's suggestion if given."""
    lr = "" if suggestion is None else f" (the LR finder suggests {suggestion:.3g})"
    return ADVICE[kind].format(lr=lr)
