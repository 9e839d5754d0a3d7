"""Every sensor the coordinator knows, as viewers should see it; the source of snapshots."""

from __future__ import annotations

from controlroom.messages import Alarm, Condition, SourceState
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    AlarmObserved,
    FrameReceived,
    LivenessChanged,
    SourceAnnounced,
    SourceUpdated,
)


class Registry:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self.sources: dict[str, SourceState] = {}
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(AlarmChanged, lambda event: self._on_alarm(event.alarm))
        bus.subscribe(AlarmObserved, lambda event: self._on_alarm(event.alarm))

    def _on_announced(self, event: SourceAnnounced) -> None:
        for info in event.announce.sensors:
            state = self.sources.get(info.name)
            if state is None:
                state = self.sources[info.name] = SourceState(sensor=info)
            else:
                state.sensor = info
            self._bus.emit(SourceUpdated(state))

    def _on_frame(self, event: FrameReceived) -> None:
        sources = self.sources
        fresh = event.fresh
        for name, value, taken_on in zip(fresh.names, fresh.values, fresh.taken_on, strict=True):
            state = sources.get(name)
            if state is not None:
                state.value = value
                state.taken_on = taken_on

    def _on_liveness(self, event: LivenessChanged) -> None:
        state = self.sources.get(event.sensor)
        if state is not None:
            state.liveness = event.liveness

    def _on_alarm(self, alarm: Alarm) -> None:
        state = self.sources.get(alarm.sensor)
        if state is not None:
            state.condition = alarm.kind if alarm.active else Condition.NORMAL
