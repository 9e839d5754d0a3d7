"""The bridge's own picture of the plant: known sensors and active alarms.

Kept locally so a client's `discover` is answered at once, even while the coordinator is away,
and so a sensor reported again with the same metadata is not announced twice (the original
client would draw a second chart). Each change returns the browser messages it causes.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from controlroom.messages import (
    Alarm,
    AlarmEvent,
    Condition,
    Snapshot,
    SourceState,
    StatusChange,
    now_us,
)
from workers.bridge import protocol

log = logging.getLogger(__name__)

MAX_SOURCES = 10_000


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A browser message with its coalescing key: a newer message with the same key replaces
    an unsent older one in a slow client's queue, since each carries the whole state."""

    key: tuple[str, str]
    payload: bytes


class PlantView:
    def __init__(self) -> None:
        self.sources: dict[str, SourceState] = {}
        self.alarms: dict[str, Alarm] = {}

    def knows(self, name: str) -> bool:
        return name in self.sources

    def discover(self) -> list[Outgoing]:
        """What a client that asked for everything receives."""
        messages = [self._source(state) for state in self.sources.values()]
        messages += [self._alarm(item) for item in self.alarms.values()]
        return messages

    def apply_source(self, state: SourceState) -> list[Outgoing]:
        name = state.sensor.name
        old = self.sources.get(name)
        if old is None and len(self.sources) >= MAX_SOURCES:
            log.warning("ignoring sensor %r: the bridge already tracks %d", name, MAX_SOURCES)
            return []
        # Alarms are the authority on condition: an alarm raised before the source event
        # arrived must not be forgotten.
        state = dataclasses.replace(state, condition=self._condition(name, state.condition))
        self.sources[name] = state
        if old is None or old.sensor != state.sensor:
            return [self._source(state)]
        if old.state != state.state:
            return [self._status(state, state.taken_on or now_us())]
        return []

    def apply_status(self, change: StatusChange) -> list[Outgoing]:
        state = self.sources.get(change.sensor)
        if state is None or state.liveness is change.liveness:
            return []
        state.liveness = change.liveness
        return [self._status(state, change.at)]

    def apply_alarm(self, event: AlarmEvent) -> list[Outgoing]:
        item = event.alarm
        if item.active:
            self.alarms[item.id] = item
        else:
            self.alarms.pop(item.id, None)
        messages = [self._alarm(item)]
        state = self.sources.get(item.sensor)
        if state is not None:
            condition = self._condition(item.sensor, Condition.NORMAL)
            if condition is not state.condition:
                state.condition = condition
                messages.append(self._status(state, item.cleared_at or item.raised_at))
        return messages

    def apply_snapshot(self, snapshot: Snapshot) -> list[Outgoing]:
        """Merge the coordinator's full picture; alarms it no longer has ended meanwhile."""
        messages: list[Outgoing] = []
        current = {item.id for item in snapshot.alarms}
        for gone in [item for key, item in self.alarms.items() if key not in current]:
            ended = dataclasses.replace(gone, cleared_at=gone.cleared_at or now_us())
            messages += self.apply_alarm(AlarmEvent(ended))
        for item in snapshot.alarms:
            if item.active:
                messages += self.apply_alarm(AlarmEvent(item))
        for state in snapshot.sources:
            messages += self.apply_source(state)
        return messages

    def _condition(self, name: str, fallback: Condition) -> Condition:
        kinds = [item.kind for item in self.alarms.values() if item.sensor == name]
        return kinds[-1] if kinds else fallback

    @staticmethod
    def _source(state: SourceState) -> Outgoing:
        return Outgoing(("source", state.sensor.name), protocol.source(state))

    @staticmethod
    def _status(state: SourceState, at: int) -> Outgoing:
        return Outgoing(("status", state.sensor.name), protocol.status(state, at))

    @staticmethod
    def _alarm(item: Alarm) -> Outgoing:
        return Outgoing(("alarm", item.id), protocol.alarm(item))
