"""Sensors: what one announces about itself, and how it stands as viewers see it."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from controlroom.errors import InvalidMessage
from controlroom.wire.fields import (
    Finite,
    Micros,
    Positive,
    Text,
    check_sensor_name,
    check_time,
)

# Silent for this many of its periods, a sensor is STALE (the coordinator's rule; a replay
# judges the stored history by it too).
STALE_AFTER_PERIODS = 3


class Liveness(StrEnum):
    LIVE = "LIVE"
    STALE = "STALE"
    OFFLINE = "OFFLINE"


class Condition(StrEnum):
    """Where the value stands against the safe range."""

    NORMAL = "NORMAL"
    HIGH = "HIGH"
    LOW = "LOW"


def display_state(liveness: Liveness, condition: Condition) -> str:
    """The one word an operator sees: silence outranks the value's condition."""
    return liveness.value if liveness is not Liveness.LIVE else condition.value


class SensorInfo(msgspec.Struct, frozen=True):
    """What a sensor announces about itself."""

    name: str
    serial_no: Text = ""
    unit: Text = ""
    safe_min: Finite | None = None
    safe_max: Finite | None = None
    period_s: Positive = 1.0

    def __post_init__(self) -> None:
        check_sensor_name(self.name)
        low, high = self.safe_min, self.safe_max
        if low is not None and high is not None and low > high:
            raise InvalidMessage("safe_min is above safe_max")


class SensorState(msgspec.Struct):
    """A sensor as viewers see it: what it announced, how it is, and its last value."""

    sensor: SensorInfo
    liveness: Liveness = Liveness.LIVE
    condition: Condition = Condition.NORMAL
    value: Finite | None = None
    taken_on: Micros | None = None

    def __post_init__(self) -> None:
        check_time(self.taken_on, "taken_on")

    @property
    def name(self) -> str:
        return self.sensor.name

    @property
    def state(self) -> str:
        return display_state(self.liveness, self.condition)
