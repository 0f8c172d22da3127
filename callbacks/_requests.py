"""What each monitor asks of the shared instrumentation."""

import dataclasses
from typing import List, Optional


@dataclasses.dataclass(frozen=True)
class ActivationRequest:
    every: int
    layers: Optional[List[str]]
    bins: int


@dataclasses.dataclass(frozen=True)
class GradientRequest:
    every: int
