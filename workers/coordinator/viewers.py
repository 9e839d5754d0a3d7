"""What viewers (the control room, the browser bridge) hear on the events exchange."""

from __future__ import annotations

from controlroom.messages import (
    AlarmEvent,
    Message,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    encode,
)
from controlroom.topology import (
    SOURCES_KEY,
    STATUSES_KEY,
    alarm_key,
    reading_key,
    source_key,
    status_key,
)
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    FrameReceived,
    LivenessChanged,
    SourceUpdated,
)

# A gateway's announcement or silence changes thousands of sensors at once. Each message costs
# the coordinator about 0.1 ms to publish (and every viewer as much to take), so a run of such
# changes goes out in messages of up to this many.
BATCH_MAX = 1000


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
        """The round's events as (routing key, body), in order. A run of source changes, or
        of status changes, goes out as one message (of up to BATCH_MAX)."""
        bodies = self._bodies
        events = self.take()
        encoded: list[tuple[str, bytes]] = []
        index = 0
        while index < len(events):
            key, message = events[index]
            end = index + 1
            if isinstance(message, SourceState | StatusChange):
                kind = type(message)
                while end < len(events) and end - index < BATCH_MAX:
                    if type(events[end][1]) is not kind:
                        break
                    end += 1
            if end - index > 1:
                encoded.append(_batch([event for _, event in events[index:end]]))
            else:
                encoded.append((key, bodies.get(index) or encode(message)))
            index = end
        return encoded

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


def _batch(events: list[Message]) -> tuple[str, bytes]:
    """Source changes, or status changes, as one message."""
    sources = [event for event in events if isinstance(event, SourceState)]
    if sources:
        return SOURCES_KEY, encode(SourceStates(sources))
    changes = [event for event in events if isinstance(event, StatusChange)]
    return STATUSES_KEY, encode(StatusChanges(changes))
