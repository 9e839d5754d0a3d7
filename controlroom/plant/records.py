"""What the audit and the action log keep: how far a sensor's run got, and who did what."""

from __future__ import annotations

from typing import Any

import msgspec

from controlroom.wire.fields import Count, Ident, Micros, Text, check_sensor_name, check_time


class RunReport(msgspec.Struct, frozen=True):
    """How far one sensor's run got: the audit's measure of what a sensor had confirmed."""

    sensor: str
    source: str
    run: Ident
    last_seq: Count
    dropped: Count
    ended_at: Micros

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        check_sensor_name(self.source)
        check_time(self.ended_at, "ended_at")


class Action(msgspec.Struct, frozen=True):
    """An operator's action, for the action log."""

    at: Micros
    operator: Text
    action: Text
    sensor: str | None = None
    detail: dict[str, Any] = {}

    def __post_init__(self) -> None:
        check_time(self.at, "at")
        if self.sensor is not None:
            check_sensor_name(self.sensor)
