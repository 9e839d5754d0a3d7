"""The bridge's own picture of the plant, and the browser messages each change causes.

A thin adapter over the one plant picture (`controlroom.plant.picture`): kept locally so a
client's `discover` is answered at once, even while the coordinator is away, and so a sensor
reported again with the same metadata is not announced twice (the original client would draw
a second chart).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from controlroom.clock import now_us
from controlroom.plant.alarms import Alarm
from controlroom.plant.picture import Changes, PlantPicture
from controlroom.plant.sensors import SensorState
from controlroom.wire.codec import Message
from controlroom.wire.envelopes import TwinWarning
from workers.bridge import protocol

log = logging.getLogger(__name__)

MAX_SOURCES = 10_000


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A browser message with its coalescing key: a newer message with the same key replaces
    an unsent older one in a slow client's queue, since each carries the whole state."""

    key: tuple[str, str]
    payload: bytes
    # A source's metadata: a client is told of a sensor once per version of it (the original
    # client draws a chart for every source message).
    version: object = None


class PlantView:
    def __init__(self) -> None:
        self.picture = PlantPicture(max_sensors=MAX_SOURCES)

    def discover(self) -> list[Outgoing]:
        """What a client that asked for everything receives."""
        picture = self.picture
        messages = [_source(state) for state in picture.sensors.values()]
        messages += [_alarm(alarm) for alarm in picture.alarms.values()]
        messages += [_warning(warning) for warning in picture.warnings.values()]
        return messages

    def apply(self, message: Message) -> tuple[Changes, list[Outgoing]]:
        """Apply a viewer message; what changed, and the state messages browsers need."""
        changes = self.picture.apply(message)
        return changes, self.outgoing(changes)

    @staticmethod
    def outgoing(changes: Changes) -> list[Outgoing]:
        messages = [_source(state) for state in changes.described]
        at = now_us()
        messages += [_status(state, state.taken_on or at) for state in changes.restated]
        messages += [_alarm(alarm) for alarm in changes.alarms]
        messages += [_alarm(alarm, ended=True) for alarm in changes.ended]
        messages += [_warning(warning) for warning in changes.warnings]
        return messages


def _source(state: SensorState) -> Outgoing:
    return Outgoing(("source", state.sensor.name), protocol.source(state), state.sensor)


def _status(state: SensorState, at: int) -> Outgoing:
    return Outgoing(("status", state.sensor.name), protocol.status(state, at))


def _alarm(alarm: Alarm, *, ended: bool = False) -> Outgoing:
    return Outgoing(("alarm", alarm.id), protocol.alarm(alarm, ended=ended))


def _warning(warning: TwinWarning) -> Outgoing:
    return Outgoing(("warning", warning.sensor), protocol.warning(warning))
