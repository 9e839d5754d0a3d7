"""Every sensor the coordinator knows, as viewers should see it; the source of snapshots."""

from __future__ import annotations

from controlroom.messages import Alarm, Condition, Frame, SourceState
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
        self._sources: dict[str, SourceState] = {}
        # Each sensor's latest (value, taken_on), applied to its state only when someone looks:
        # at 10 readings/s per sensor that saves most of the work.
        self._latest: dict[str, tuple[float, int]] = {}
        # By source: its newest frame, not yet copied into _latest. A frame of the same sensors
        # replaces it unread, so a gateway that ticks costs nothing here until a snapshot.
        self._unread: dict[str, Frame] = {}
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(AlarmChanged, lambda event: self._on_alarm(event.alarm))
        bus.subscribe(AlarmObserved, lambda event: self._on_alarm(event.alarm))

    @property
    def sources(self) -> dict[str, SourceState]:
        """Every known sensor's state, up to date."""
        for frame in self._unread.values():
            self._read(frame)
        self._unread.clear()
        if self._latest:
            sources = self._sources
            for name, (value, taken_on) in self._latest.items():
                state = sources.get(name)
                if state is not None:
                    state.value = value
                    state.taken_on = taken_on
            self._latest.clear()
        return self._sources

    def _on_announced(self, event: SourceAnnounced) -> None:
        sources = self.sources  # readings that came before the announcement are not shown
        for info in event.announce.sensors:
            state = sources.get(info.name)
            if state is None:
                state = sources[info.name] = SourceState(sensor=info)
            elif state.sensor == info:
                continue  # announced again (discovery, reconnect): viewers know it already
            else:
                state.sensor = info
            self._bus.emit(SourceUpdated(state))

    def _on_frame(self, event: FrameReceived) -> None:
        fresh = event.fresh
        unread = self._unread.get(fresh.source)
        if unread is not None and not fresh.repeats(unread.names):
            self._read(unread)  # it holds sensors the new frame may not: keep their values
        self._unread[fresh.source] = fresh

    def _read(self, frame: Frame) -> None:
        self._latest.update(
            zip(frame.names, zip(frame.values, frame.taken_on, strict=True), strict=True)
        )

    def _on_liveness(self, event: LivenessChanged) -> None:
        state = self._sources.get(event.sensor)
        if state is not None:
            state.liveness = event.liveness

    def _on_alarm(self, alarm: Alarm) -> None:
        state = self._sources.get(alarm.sensor)
        if state is not None:
            state.condition = alarm.kind if alarm.active else Condition.NORMAL
