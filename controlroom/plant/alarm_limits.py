"""Alarm definitions (ISA-18.2): a sensor's up to four limits, each with its own priority,
deadband and on/off delays; optionally a rate-of-change limit and silence as an alarm of its
own. What a definition is, which sets make sense and what a sensor gets when none is stored
live here; PostgreSQL stores them (sql/020_alarm_limits.sql, sql/021_alarm_core.sql),
`controlroom.db.alarm_limits` reads them, the coordinator evaluates them
(workers/coordinator/alarms.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import msgspec

from controlroom.errors import ConfigError

MAX_DELAY_S = 3600.0
# The seed's rule (sql/020) for the deadband: this fraction of the safe range.
SEED_DEADBAND = 0.02


class Level(StrEnum):
    LL = "LL"
    L = "L"
    H = "H"
    HH = "HH"
    ROC = "ROC"  # rate of change: |Δvalue / Δt| above `value` units per second
    SILENT = "SILENT"  # the sensor is STALE or OFFLINE (its `value` means nothing)

    @property
    def high(self) -> bool:
        """Beyond it means above it (H, HH), not below (L, LL)."""
        return self in (Level.H, Level.HH)

    @property
    def on_value(self) -> bool:
        """A limit on the value itself (LL, L, H, HH)."""
        return self in LEVELS


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


class AlarmLimit(msgspec.Struct, frozen=True):
    """One alarm point's definition. A struct, so a limit change travels as it is stored."""

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
        if self.level is Level.ROC and not self.value > 0:
            raise ConfigError(f"{where}: the rate of change must be above 0 units per second")
        if not (math.isfinite(self.deadband) and self.deadband >= 0):
            raise ConfigError(f"{where}: the deadband must be zero or more")
        for name, delay in (("on-delay", self.on_delay_s), ("off-delay", self.off_delay_s)):
            if not (math.isfinite(delay) and 0 <= delay <= MAX_DELAY_S):
                raise ConfigError(f"{where}: the {name} must be 0 to {MAX_DELAY_S:g} s")

    @property
    def on_delay_us(self) -> int:
        return round(self.on_delay_s * 1_000_000)

    @property
    def off_delay_us(self) -> int:
        return round(self.off_delay_s * 1_000_000)

    def beyond(self, value: float) -> bool:
        """The process is beyond this limit (strictly, as the safe-range rule); for ROC,
        `value` is a rate and beyond means faster than the limit either way."""
        if self.level is Level.ROC:
            return abs(value) > self.value
        return value > self.value if self.level.high else value < self.value

    def back_inside(self, value: float) -> bool:
        """Inside the limit by its deadband: an active alarm may clear."""
        band = self.deadband
        if self.level is Level.ROC:
            return abs(value) <= self.value - band
        return value <= self.value - band if self.level.high else value >= self.value + band


def check_limits(limits: Sequence[AlarmLimit]) -> None:
    """One sensor's limits make sense together: each level once, LL < L < H < HH.

    The one check every editor of definitions goes through (the viewer before it sends a
    change, the coordinator before it applies one, the reader of the stored rows)."""
    levels = [limit.level for limit in limits]
    if len(set(levels)) != len(levels):
        raise ConfigError("a sensor has each limit (LL, L, H, HH, ROC, SILENT) at most once")
    if len({limit.sensor for limit in limits}) > 1:
        raise ConfigError("limits of several sensors given as one sensor's")
    ordered = sorted(
        (limit for limit in limits if limit.level.on_value),
        key=lambda limit: LEVELS.index(limit.level),
    )
    for lower, upper in itertools.pairwise(ordered):
        if not lower.value < upper.value:
            raise ConfigError(
                f"{lower.sensor}: {lower.level.value} ({lower.value:g}) must be below "
                f"{upper.level.value} ({upper.value:g})"
            )


def default_limits(sensor: str, low: float | None, high: float | None) -> list[AlarmLimit]:
    """A sensor's definitions when none are stored: L and H at its announced safe range, high
    priority, a deadband of 2% of the range (none with one side alone: there is no range to
    take a fraction of), as the safe-range rule always was. LL and HH are an operator's (or
    the seed's, sql/020, for the sensors it knew), never guessed."""
    band = (high - low) * SEED_DEADBAND if low is not None and high is not None else 0.0
    limits = []
    if low is not None:
        limits.append(AlarmLimit(sensor, Level.L, low, Priority.HIGH, band))
    if high is not None:
        limits.append(AlarmLimit(sensor, Level.H, high, Priority.HIGH, band))
    return limits


@dataclass(slots=True)
class PointState:
    """Where one alarm point stands: active or not, and since when the change it waits for
    (beyond the limit while inactive, back inside while active) has held, if it has."""

    active: bool = False
    since_us: int | None = None

    @property
    def quiet(self) -> bool:
        """Nothing pending: a reading inside the limit changes nothing."""
        return not self.active and self.since_us is None


def judge(limit: AlarmLimit, point: PointState, value: float, at_us: int) -> bool:
    """The limit rule for one reading: True if the point turned active or inactive.

    Beyond the limit for at least the on-delay (by the readings' own times) activates; back
    inside by the deadband for at least the off-delay deactivates; a reading that breaks
    either streak starts it again. So an excursion shorter than the on-delay raises nothing
    and a return shorter than the off-delay clears nothing."""
    if not point.active:
        if not limit.beyond(value):
            point.since_us = None
            return False
        delay = limit.on_delay_us
    else:
        if not limit.back_inside(value):
            point.since_us = None
            return False
        delay = limit.off_delay_us
    if point.since_us is None:
        point.since_us = at_us
    if at_us - point.since_us < delay:
        return False
    point.active = not point.active
    point.since_us = None
    return True
