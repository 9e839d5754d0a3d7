"""What viewers (the control room, the browser bridge) hear on the events exchange."""

from __future__ import annotations

from controlroom.broker.topology import (
    SOURCES_KEY,
    STATUSES_KEY,
    alarm_key,
    hold_key,
    limits_key,
    reading_key,
    source_key,
    status_key,
    warning_key,
)
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import SensorState
from controlroom.wire.codec import Message, encode
from controlroom.wire.envelopes import (
    AlarmEvent,
    HoldEvent,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
)
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    FrameReceived,
    HoldChanged,
    LimitsChanged,
    LivenessChanged,
    SourceUpdated,
    TwinsFound,
)

# A gateway's announcement or silence changes thousands of sensors at once. Each message costs
# the coordinator about 0.1 ms to publish (and every viewer as much to take), so a run of such
# changes goes out in messages of up to this many.
BATCH_MAX = 1000


class ViewerPublisher:
    def __init__(self, bus: MessageBus) -> None:
        self._events: list[tuple[str, Message]] = []
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(SourceUpdated, self._on_source)
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(AlarmChanged, self._on_alarm)
        bus.subscribe(TwinsFound, self._on_twins)
        bus.subscribe(HoldChanged, self._on_hold)
        bus.subscribe(LimitsChanged, self._on_limits)

    def take(self) -> list[tuple[str, Message]]:
        events, self._events = self._events, []
        return events

    def take_encoded(self) -> list[tuple[str, bytes]]:
        """The round's events as (routing key, body), in order. A run of source changes, of
        status changes, or of frames of one source run, goes out as one message: one message
        costs the coordinator (and every viewer) about as much as a gateway's whole frame."""
        events = self.take()
        encoded: list[tuple[str, bytes]] = []
        index = 0
        while index < len(events):
            key, message = events[index]
            end = index + 1
            while end < len(events) and end - index < BATCH_MAX:
                if not _joins(message, events[end][1]):
                    break
                end += 1
            if end - index > 1:
                encoded.append(_batch(key, [event for _, event in events[index:end]]))
            else:
                encoded.append((key, encode(message)))
            index = end
        return encoded

    def _on_frame(self, event: FrameReceived) -> None:
        fresh = event.fresh
        if len(fresh):
            self._events.append((reading_key(fresh.source), fresh))

    def _on_source(self, event: SourceUpdated) -> None:
        state = SourceState.of(event.state)
        self._events.append((source_key(state.sensor.name), state))

    def _on_liveness(self, event: LivenessChanged) -> None:
        change = StatusChange(event.sensor, event.liveness, event.at)
        self._events.append((status_key(event.sensor), change))

    def _on_alarm(self, event: AlarmChanged) -> None:
        self._events.append((alarm_key(event.change), AlarmEvent(event.alarm)))

    def _on_hold(self, event: HoldChanged) -> None:
        self._events.append((hold_key(event.hold.sensor), HoldEvent(event.hold)))

    def _on_limits(self, event: LimitsChanged) -> None:
        self._events.append((limits_key(event.change.sensor), event.change))

    def _on_twins(self, event: TwinsFound) -> None:
        self._events.append((warning_key(event.warning.sensor), event.warning))


def _joins(first: Message, other: Message) -> bool:
    """Whether `other` can travel in one message with a run that began with `first`."""
    if isinstance(first, Frame):
        return isinstance(other, Frame) and (other.source, other.run) == (first.source, first.run)
    return isinstance(first, SourceState | StatusChange) and type(other) is type(first)


def _batch(key: str, events: list[Message]) -> tuple[str, bytes]:
    """A run of frames, source changes or status changes as one message."""
    frames = [event for event in events if isinstance(event, Frame)]
    if frames:
        return key, encode(Frame.merge(frames))
    sources: list[SensorState] = [event for event in events if isinstance(event, SourceState)]
    if sources:
        return SOURCES_KEY, encode(SourceStates(sources))
    changes = [event for event in events if isinstance(event, StatusChange)]
    return STATUSES_KEY, encode(StatusChanges(changes))
