"""The `Finding` record shared by the monitors and the training doctor."""

import dataclasses
from typing import Any, Dict, Optional

#: The fixed vocabulary of finding kinds, with a one-line meaning each.
FINDING_KINDS = {
    "vanishing_gradient": "gradients reaching the early layers are too small to learn",
    "exploding_gradient": "gradient norms grow without bound",
    "non_finite": "a NaN or Inf appeared in the gradients or the loss",
    "dead_relu": "ReLU units that output zero for every example, or GELU/SiLU/ELU/softplus units on their flat negative tail",
    "saturated_activation": "sigmoid/tanh units stuck at their flat ends, or a hidden softmax one-hot on most examples",
    "loss_not_decreasing": "the training loss does not go down",
    "oscillating_loss": "the training loss jumps up and down",
    "diverging_loss": "the training loss grows",
    "overfitting": "validation loss rises while training loss falls",
    "underfitting": "training and validation losses both stay high",
    "needs_more_training": "both curves are still improving at the end",
    "learning_rate_too_high": "the learning rate makes training unstable",
    "learning_rate_too_low": "the learning rate makes training crawl",
    "invalid_loss": "the loss went below its floor: labels outside the loss's range",
    "loss_output_mismatch": "the loss reads the output as probabilities when it is scores, or the reverse, or the output's range leaves out the targets",
    "unscaled_inputs": "the inputs are far from standardized: the first layer's outputs start many times their standardized scale",
}


@dataclasses.dataclass
class Finding:
    """One diagnosis about a training run, with its evidence and a fix.

    Args:
        kind: One of `FINDING_KINDS`.
        layer: Name of the layer concerned, or `None` for model-wide findings.
        epoch: Epoch (0-based) at which the symptom was first seen, or `None`.
        step: Global training step (batch) at which it was first seen, or `None`.
        evidence: The numbers that triggered the finding.
        advice: What to change, in plain words.
    """

    kind: str
    layer: Optional[str] = None
    epoch: Optional[int] = None
    step: Optional[int] = None
    evidence: Dict[str, Any] = dataclasses.field(default_factory=dict)
    advice: str = ""

    def __post_init__(self):
        if self.kind not in FINDING_KINDS:
            raise ValueError(
                "Unknown finding kind. Expected one of "
                f"{sorted(FINDING_KINDS)}. Received: kind={self.kind!r}"
            )

    def __str__(self):
        where = f" in layer '{self.layer}'" if self.layer else ""
        when = f" (first seen at epoch {self.epoch}, step {self.step})"
        if self.epoch is None and self.step is None:
            when = ""
        numbers = ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items())
        return f"{self.kind}{where}{when}: {numbers}. Fix: {self.advice}"


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
