"""Rectified Adam (RAdam): Adam whose adaptive step waits until its variance is tractable."""


import keras
from keras import ops

from keras_recipes.recipes._validation import (
    check_learning_rate,
    check_non_negative,
    check_rate,
    python_numbers,
)

# Algorithm 2 of Liu et al. (2019) turns the adaptive step on when rho_t > 4: below that the
# variance of the adaptive learning rate is infinite or undefined. (PyTorch's RAdam and the authors'
# code use 5 instead, which delays the first adaptive step by one step at beta_2=0.999.)
TRACTABLE_RHO = 4.0


@keras.saving.register_keras_serializable(package="keras_recipes")
class RAdam(keras.optimizers.Optimizer):
    """Optimizer that implements the Rectified Adam (RAdam) algorithm.

    Adam's adaptive learning rate `1 / sqrt(v_hat)` is estimated from only a
    few gradients early in training, so its variance is large; a learning-rate
    warmup is the usual remedy. RAdam
    ([Liu et al., 2019](https://arxiv.org/abs/1908.03265)) computes the
    length of the approximated simple moving average
    `rho_t = rho_inf - 2 t beta_2^t / (1 - beta_2^t)`, with
    `rho_inf = 2 / (1 - beta_2) - 1`. While `rho_t <= 4` the variance is
    intractable and the step is plain momentum, `learning_rate * m_hat`;
    afterwards it is Adam's step scaled by the rectification term

    `r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`,

    i.e. `learning_rate * r_t * m_hat / (sqrt(v_hat) + epsilon)`. With the
    default `beta_2=0.999` the first 4 steps are momentum steps.

    Args:
        learning_rate: A number > 0 (a Python or NumPy scalar), a
            `keras.optimizers.schedules.LearningRateSchedule` instance, or a
            callable that takes no arguments and returns the value to use.
            Defaults to `0.001`.
        beta_1: The exponential decay rate for the 1st moment estimates, in
            [0, 1). Defaults to `0.9`.
        beta_2: The exponential decay rate for the 2nd moment estimates, in
            [0, 1). Defaults to `0.999`.
        epsilon: A small constant added to `sqrt(v_hat)` for numerical
            stability. Defaults to `1e-7`.
        **kwargs: The base optimizer's arguments (`weight_decay`, `clipnorm`,
            `clipvalue`, `global_clipnorm`, `use_ema`, `ema_momentum`,
            `ema_overwrite_frequency`, `loss_scale_factor`,
            `gradient_accumulation_steps`, `name`).

    Raises:
        ValueError: if `learning_rate` is neither a number > 0 nor a
            callable, `beta_1` or `beta_2` is outside [0, 1) or `epsilon` is
            negative.

    Example:

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=RAdam(learning_rate=1e-2), loss="mse")
    >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), verbose=0)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        name="radam",
        **kwargs,
    ):
        super().__init__(
            learning_rate=check_learning_rate(learning_rate), name=name, **python_numbers(kwargs)
        )
        self.beta_1 = check_rate("beta_1", beta_1)
        self.beta_2 = check_rate("beta_2", beta_2)
        self.epsilon = check_non_negative("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), step)

        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(
            v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2)
        )
        m_hat = ops.divide(m, 1 - beta_1_power)
        v_hat = ops.divide(v, 1 - beta_2_power)

        # rho_t is a difference of two numbers near rho_inf (about 2000), and
        # r_t depends on rho_t - 4: in float32 a 1e-7 rounding of beta_2 moved
        # r_t by 2% at step 5. So the scalars are float64.
        step_64 = ops.cast(self.iterations + 1, "float64")
        beta_2_power_64 = ops.power(ops.convert_to_tensor(self.beta_2, "float64"), step_64)
        rho_inf = 2.0 / (1.0 - self.beta_2) - 1.0
        rho_t = rho_inf - 2.0 * step_64 * beta_2_power_64 / (1.0 - beta_2_power_64)
        rectification = ops.cast(_rectification(rho_t, rho_inf), dtype)
        adaptive = rectification * m_hat / (ops.sqrt(v_hat) + self.epsilon)
        update = ops.where(rho_t > TRACTABLE_RHO, adaptive, m_hat)
        self.assign_sub(variable, ops.multiply(lr, update))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
        )
        return config


def _rectification(rho_t, rho_inf):
    """The variance rectification term r_t (clamped to 0 where rho_t <= 4, where it is unused)."""
    numerator = ops.maximum((rho_t - 4.0) * (rho_t - 2.0) * rho_inf, 0.0)
    denominator = (rho_inf - 4.0) * (rho_inf - 2.0) * rho_t
    return ops.sqrt(numerator / denominator)
