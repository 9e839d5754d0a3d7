"""The simulated sensors' values: bounded random walks that drift back towards normal.

A gateway steps thousands of walks every tick, so they are stepped together, as arrays: tens
of nanoseconds a reading instead of a microsecond. A lone sensor is a set of one walk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


class RandomWalks:
    """Walks that start uniform in [minimum, maximum]; normal is the midpoint.

    Below normal the step is drawn from [-step*(v-min)/(normal-min), +step], at or above it
    from [-step, +step*(max-v)/(max-normal)], so a walk leans towards normal and slows as it
    nears either bound. The result is clamped, so a step wider than half the range is safe.
    """

    def __init__(
        self,
        minimum: Sequence[float],
        maximum: Sequence[float],
        step: Sequence[float],
        rng: np.random.Generator | None = None,
    ) -> None:
        self._low = np.array(minimum, dtype=np.float64)
        self._high = np.array(maximum, dtype=np.float64)
        self._step = np.array(step, dtype=np.float64)
        self._base_step = self._step
        if not (len(self._low) == len(self._high) == len(self._step)):
            raise ValueError("minimum, maximum and step differ in length")
        if not np.all(self._low < self._high):
            raise ValueError("minimum must be below maximum")
        if not np.all(self._step > 0):
            raise ValueError("step must be positive")
        self._rng = rng if rng is not None else np.random.default_rng()
        self.values: npt.NDArray[np.float64] = self._rng.uniform(self._low, self._high)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def normal(self) -> npt.NDArray[np.float64]:
        return (self._low + self._high) / 2

    def next(self) -> list[float]:
        """One step of every walk; the new values, in order."""
        values: list[float] = self.step().tolist()
        return values

    def step(self) -> npt.NDArray[np.float64]:
        """One step of every walk; the new values as the walks' own array (do not change it)."""
        low, high, step, value = self._low, self._high, self._step, self.values
        normal = (low + high) / 2
        below = value < normal
        lower = np.where(below, -step * (value - low) / (normal - low), -step)
        upper = np.where(below, step, step * (high - value) / (high - normal))
        value = value + self._rng.uniform(lower, upper)
        self.values = np.clip(value, low, high)
        return self.values

    def scale_steps(self, factors: npt.NDArray[np.float64] | None) -> None:
        """Each walk's step times its factor from now on (a noise fault); None: as made."""
        self._step = self._base_step if factors is None else self._base_step * factors

    def remove(self, index: int) -> None:
        """Stop walk `index` (its sensor was stopped); the others keep their order."""
        self._low = np.delete(self._low, index)
        self._high = np.delete(self._high, index)
        self._step = np.delete(self._step, index)
        self._base_step = np.delete(self._base_step, index)
        self.values = np.delete(self.values, index)
