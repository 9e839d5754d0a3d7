"""Alarm definitions (ISA-18.2): a sensor's up to four limits, each with its own priority,
deadband and on/off delays. What a limit is and which sets of limits make sense live here;
PostgreSQL stores them (sql/020_alarm_limits.sql), `controlroom.db.alarm_limits` reads them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from controlroom.errors import ConfigError

MAX_DELAY_S = 3600.0


class Level(StrEnum):
    LL = "LL"
    L = "L"
    H = "H"
    HH = "HH"

    @property
    def high(self) -> bool:
        """Beyond it means above it (H, HH), not below (L, LL)."""
        return self in (Level.H, Level.HH)


# Lowest to highest: the order the limits' values must keep.
LEVELS = (Level.LL, Level.L, Level.H, Level.HH)


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent: the alarm panel sorts by it."""
        return PRIORITIES.index(self)


PRIORITIES = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)


@dataclass(frozen=True, slots=True)
class AlarmLimit:
    sensor: str
    level: Level
    value: float
    priority: Priority
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0

    def __post_init__(self) -> None:
        where = f"{self.sensor} {self.level.value}"
        if not math.isfinite(self.value):
            raise ConfigError(f"{where}: the limit must be a finite number")
        if not (math.isfinite(self.deadband) and self.deadband >= 0):
            raise ConfigError(f"{where}: the deadband must be zero or more")
        for name, delay in (("on-delay", self.on_delay_s), ("off-delay", self.off_delay_s)):
            if not 0 <= delay <= MAX_DELAY_S:
                raise ConfigError(f"{where}: the {name} must be 0 to {MAX_DELAY_S:g} s")

    def beyond(self, value: float) -> bool:
        """The process is beyond this limit (strictly, as the safe-range rule)."""
        return value > self.value if self.level.high else value < self.value

    def back_inside(self, value: float) -> bool:
        """Inside the limit by its deadband: an active alarm may clear."""
        band = self.deadband
        return value <= self.value - band if self.level.high else value >= self.value + band


def check_limits(limits: Sequence[AlarmLimit]) -> None:
    """One sensor's limits make sense together: each level once, LL < L < H < HH."""
    levels = [limit.level for limit in limits]
    if len(set(levels)) != len(levels):
        raise ConfigError("a sensor has each limit (LL, L, H, HH) at most once")
    if len({limit.sensor for limit in limits}) > 1:
        raise ConfigError("limits of several sensors given as one sensor's")
    ordered = sorted(limits, key=lambda limit: LEVELS.index(limit.level))
    for lower, upper in itertools.pairwise(ordered):
        if not lower.value < upper.value:
            raise ConfigError(
                f"{lower.sensor}: {lower.level.value} ({lower.value:g}) must be below "
                f"{upper.level.value} ({upper.value:g})"
            )
