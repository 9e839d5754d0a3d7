"""Alarms: the safe-range rule that raises and clears them, and what one alarm is.

A value that hovers at a limit must not raise and clear an alarm on every reading, so an alarm
clears only once the value is back inside the range by a deadband (a fraction of the range).

An alarm's whole state travels every time it changes, and copies of it meet (several
coordinators, a viewer's snapshot crossing an event): `Alarm.absorb` is the one rule for
putting two copies together, whatever the order they come in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec

from controlroom.errors import InvalidMessage
from controlroom.plant.sensors import Condition
from controlroom.wire.fields import (
    Finite,
    Ident,
    Micros,
    Text,
    check_id,
    check_sensor_name,
    check_time,
)

DEFAULT_DEADBAND = 0.02

_ALARM_NAMESPACE = uuid.UUID("6f1c0a52-3c1e-4d8e-9a57-2b3c8e7d0a14")


def alarm_id(sensor: str, kind: Condition, run: str, seq: int) -> str:
    """An alarm's id, named after the reading that raised it (sensor, run, seq).

    Deterministic, so a coordinator that evaluates a redelivered frame from the same state
    raises the very alarm its dead predecessor raised (and perhaps sent): one row, not two.
    """
    return uuid.uuid5(_ALARM_NAMESPACE, f"{sensor}\x00{kind.value}\x00{run}\x00{seq}").hex


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


class Alarm(msgspec.Struct):
    """A safe-range violation: raised, perhaps cleared, perhaps acknowledged."""

    id: Ident
    sensor: str
    kind: Condition
    raised_at: Micros
    value: Finite
    limit: Finite
    peak: Finite
    cleared_at: Micros | None = None
    acked_at: Micros | None = None
    acked_by: Text | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "alarm id")
        check_sensor_name(self.sensor)
        if self.kind is Condition.NORMAL:
            raise InvalidMessage("alarm kind must be HIGH or LOW")
        for what, moment in (
            ("raised_at", self.raised_at),
            ("cleared_at", self.cleared_at),
            ("acked_at", self.acked_at),
        ):
            check_time(moment, what)

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def open(self) -> bool:
        """Still an operator's business: active, or not yet acknowledged."""
        return self.cleared_at is None or self.acked_at is None

    def absorb(self, other: Alarm) -> bool:
        """Take in what another copy of this alarm knows; True if this one changed.

        A field once set stays set (an alarm cleared or acknowledged anywhere is so
        everywhere, whichever copy arrives last), and the peak only ever moves away from the
        limit, so copies merge to the same state in any order.
        """
        before = (self.cleared_at, self.acked_at, self.acked_by, self.peak)
        self.cleared_at = self.cleared_at or other.cleared_at
        self.acked_at = self.acked_at or other.acked_at
        self.acked_by = self.acked_by or other.acked_by
        if self.kind is Condition.HIGH:
            self.peak = max(self.peak, other.peak)
        else:
            self.peak = min(self.peak, other.peak)
        return before != (self.cleared_at, self.acked_at, self.acked_by, self.peak)

    def track(self, value: float) -> None:
        """A reading while active: the peak follows the worst value."""
        if self.kind is Condition.HIGH:
            self.peak = max(self.peak, value)
        else:
            self.peak = min(self.peak, value)
