"""What viewers (the control room, the browser bridge) hear on the events exchange."""

from __future__ import annotations

from controlroom.messages import AlarmEvent, Message, StatusChange
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
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(
            SourceUpdated, lambda e: self._events.append((source_key(e.state.sensor.name), e.state))
        )
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(AlarmChanged, self._on_alarm)

    def take(self) -> list[tuple[str, Message]]:
        events, self._events = self._events, []
        return events

    def _on_frame(self, event: FrameReceived) -> None:
        if len(event.fresh):
            self._events.append((reading_key(event.fresh.source), event.fresh))

    def _on_liveness(self, event: LivenessChanged) -> None:
        change = StatusChange(event.sensor, event.liveness, event.at)
        self._events.append((status_key(event.sensor), change))

    def _on_alarm(self, event: AlarmChanged) -> None:
        self._events.append((alarm_key(event.change), AlarmEvent(event.alarm)))
