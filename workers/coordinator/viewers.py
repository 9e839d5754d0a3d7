"""What viewers (the control room, the browser bridge) hear on the events exchange."""

from __future__ import annotations

from controlroom.messages import AlarmEvent, Message, StatusChange, encode
from controlroom.topology import alarm_key, reading_key, source_key, status_key
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    FrameReceived,
    LivenessChanged,
    SourceUpdated,
)


class ViewerPublisher:
    def __init__(self, bus: MessageBus) -> None:
        self._events: list[tuple[str, Message]] = []
        # Bodies already encoded, by position in _events: a frame passed on unchanged.
        self._bodies: dict[int, bytes] = {}
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(
            SourceUpdated, lambda e: self._events.append((source_key(e.state.sensor.name), e.state))
        )
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(AlarmChanged, self._on_alarm)

    def take(self) -> list[tuple[str, Message]]:
        events, self._events = self._events, []
        self._bodies = {}
        return events

    def take_encoded(self) -> list[tuple[str, bytes]]:
        """The round's events as (routing key, body), in order."""
        bodies = self._bodies
        return [
            (key, bodies.get(index) or encode(message))
            for index, (key, message) in enumerate(self.take())
        ]

    def _on_frame(self, event: FrameReceived) -> None:
        fresh = event.fresh
        if len(fresh):
            if fresh is event.frame and event.body is not None:
                self._bodies[len(self._events)] = event.body
            self._events.append((reading_key(fresh.source), fresh))

    def _on_liveness(self, event: LivenessChanged) -> None:
        change = StatusChange(event.sensor, event.liveness, event.at)
        self._events.append((status_key(event.sensor), change))

    def _on_alarm(self, event: AlarmChanged) -> None:
        self._events.append((alarm_key(event.change), AlarmEvent(event.alarm)))
