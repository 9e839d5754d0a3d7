"""What goes to the datamanager: readings (all, or one per sensor per interval), sensors'
metadata, run reports, alarms, holds, alarm definitions and operator actions, gathered into
one batch per round."""

from __future__ import annotations

from controlroom.clock import now_us
from controlroom.plant.readings import Frame
from controlroom.plant.records import RunReport
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import PersistBatch
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    ActionTaken,
    AlarmChanged,
    FrameReceived,
    HoldChanged,
    LimitsChanged,
    SourceAnnounced,
    SourceLeft,
)


class Persister:
    def __init__(self, bus: MessageBus, interval_s: float = 0.0) -> None:
        self._interval_us = int(interval_s * 1_000_000)
        self._last_kept: dict[str, int] = {}
        self._batch = PersistBatch()
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(SourceLeft, self._on_left)
        bus.subscribe(AlarmChanged, self._on_alarm)
        bus.subscribe(ActionTaken, self._on_action)
        bus.subscribe(HoldChanged, self._on_hold)
        bus.subscribe(LimitsChanged, self._on_limits)

    def take(self) -> PersistBatch:
        batch, self._batch = self._batch, PersistBatch()
        return batch

    def take_encoded(self) -> tuple[PersistBatch, bytes]:
        """The round's batch and its message body (frames stored as received travel as the
        bytes they came in: the codec embeds them instead of encoding every reading again)."""
        batch = self.take()
        return batch, encode(batch) if batch else b""

    def _on_frame(self, event: FrameReceived) -> None:
        # Every reading as received, repeats included: storing is idempotent, and a repeat may
        # be the only copy that reaches the database (its first delivery was never confirmed).
        frame = event.frame if not self._interval_us else self._down_sample(event.fresh)
        if len(frame):
            self._batch.frames.append(frame)

    def _down_sample(self, frame: Frame) -> Frame:
        keep = []
        last = self._last_kept
        for index, (name, taken_on) in enumerate(zip(frame.names, frame.taken_on, strict=True)):
            if taken_on - last.get(name, 0) >= self._interval_us:
                last[name] = taken_on
                keep.append(index)
        return frame.subset(keep)

    def _on_announced(self, event: SourceAnnounced) -> None:
        self._batch.sensors.extend(event.announce.sensors)

    def _on_left(self, event: SourceLeft) -> None:
        goodbye = event.goodbye
        ended = now_us()
        self._batch.runs.extend(
            RunReport(name, goodbye.source, goodbye.run, last, goodbye.dropped.get(name, 0), ended)
            for name, last in goodbye.last_seq.items()
        )

    def _on_alarm(self, event: AlarmChanged) -> None:
        self._batch.alarms.append(event.alarm)

    def _on_action(self, event: ActionTaken) -> None:
        self._batch.actions.append(event.action)

    def _on_hold(self, event: HoldChanged) -> None:
        self._batch.holds.append(event.hold)

    def _on_limits(self, event: LimitsChanged) -> None:
        self._batch.limits.append(event.change)
