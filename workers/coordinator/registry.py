"""Every sensor the coordinator knows and every open alarm, as viewers should see them: the
source of snapshots. A thin adapter from the coordinator's events to the one plant picture."""

from __future__ import annotations

from controlroom.plant.alarms import Alarm
from controlroom.plant.picture import Changes, PlantPicture
from controlroom.wire.envelopes import Snapshot
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    AlarmObserved,
    FrameReceived,
    HoldChanged,
    HoldObserved,
    LivenessChanged,
    SourceAnnounced,
    SourceUpdated,
)


class Registry:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self.picture = PlantPicture()
        self._source_of: dict[str, str] = {}  # sensor -> the source that announced it last
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, lambda event: self.picture.frame(event.fresh, Changes()))
        bus.subscribe(
            LivenessChanged,
            lambda event: self.picture.liveness(event.sensor, event.liveness, Changes()),
        )
        bus.subscribe(AlarmChanged, lambda event: self._on_alarm(event.alarm))
        bus.subscribe(AlarmObserved, lambda event: self._on_alarm(event.alarm))
        bus.subscribe(HoldChanged, lambda event: self.picture.hold(event.hold, Changes()))
        bus.subscribe(HoldObserved, lambda event: self.picture.hold(event.hold, Changes()))

    def snapshot(self) -> Snapshot:
        picture = self.picture
        return Snapshot(
            list(picture.sensors.values()), picture.open_alarms(), list(picture.holds.values())
        )

    def source_of(self, sensor: str) -> str | None:
        """The source that carries a sensor (where a stop for it goes), if one announced it."""
        return self._source_of.get(sensor)

    def _on_announced(self, event: SourceAnnounced) -> None:
        changes = Changes()
        for info in event.announce.sensors:
            self._source_of[info.name] = event.announce.source
            self.picture.describe(info, changes)
        # Announced again with the same metadata (discovery, a reconnect): viewers know it.
        for state in changes.described:
            self._bus.emit(SourceUpdated(state))

    def _on_alarm(self, alarm: Alarm) -> None:
        self.picture.alarm(alarm, Changes())
