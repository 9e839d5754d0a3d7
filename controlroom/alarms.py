"""The safe-range rule: when a value raises or clears an alarm, with hysteresis.

A value that hovers at a limit must not raise and clear an alarm on every reading, so an alarm
clears only once the value is back inside the range by a deadband (a fraction of the range).
"""

from __future__ import annotations

from dataclasses import dataclass

from controlroom.messages import Condition

DEFAULT_DEADBAND = 0.02


@dataclass(frozen=True, slots=True)
class SafeRange:
    low: float | None
    high: float | None
    deadband_fraction: float = DEFAULT_DEADBAND

    @property
    def deadband(self) -> float:
        if self.low is None or self.high is None:
            return 0.0
        return (self.high - self.low) * self.deadband_fraction

    def limit(self, condition: Condition) -> float:
        limit = self.high if condition is Condition.HIGH else self.low
        assert limit is not None, "no limit on that side"
        return limit

    def evaluate(self, current: Condition, value: float) -> Condition:
        """The condition after `value`, given the condition before it."""
        low, high, band = self.low, self.high, self.deadband
        if current is Condition.HIGH and high is not None and value > high - band:
            return Condition.HIGH
        if current is Condition.LOW and low is not None and value < low + band:
            return Condition.LOW
        if high is not None and value > high:
            return Condition.HIGH
        if low is not None and value < low:
            return Condition.LOW
        return Condition.NORMAL
