"""The simulated sensor's value: a bounded random walk that drifts back towards normal."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class RandomWalk:
    """Starts uniform in [minimum, maximum]; normal is the midpoint.

    Below normal the step is drawn from [-step*(v-min)/(normal-min), +step], at or above it
    from [-step, +step*(max-v)/(max-normal)], so the walk leans towards normal and slows as it
    nears either bound. The result is clamped, so a step wider than half the range is still safe.
    """

    minimum: float
    maximum: float
    step: float
    rng: random.Random = field(default_factory=random.Random)
    value: float = field(init=False)

    def __post_init__(self) -> None:
        if not self.minimum < self.maximum:
            raise ValueError("minimum must be below maximum")
        if self.step <= 0:
            raise ValueError("step must be positive")
        self.value = self.rng.uniform(self.minimum, self.maximum)

    @property
    def normal(self) -> float:
        return (self.minimum + self.maximum) / 2

    def next(self) -> float:
        value, low, high, step = self.value, self.minimum, self.maximum, self.step
        normal = (low + high) / 2
        if value < normal:
            lower, upper = -step * (value - low) / (normal - low), step
        else:
            lower, upper = -step, step * (high - value) / (high - normal)
        value += self.rng.uniform(lower, upper)
        self.value = min(high, max(low, value))
        return self.value
