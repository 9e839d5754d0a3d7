"""Safe-range alarms: raised and cleared with hysteresis, acknowledged by operators.

The book holds every alarm that is active or unacknowledged, this coordinator's and those other
coordinators published, so any coordinator can acknowledge any alarm and answer snapshots.
"""

from __future__ import annotations

import math
import uuid
from itertools import repeat
from operator import le

from controlroom.alarms import SafeRange
from controlroom.messages import Alarm, Condition
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AckRequested,
    AlarmChanged,
    AlarmObserved,
    FrameReceived,
    SourceAnnounced,
)


class AlarmMonitor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._ranges: dict[str, SafeRange] = {}
        self._conditions: dict[str, Condition] = {}
        # For the fast path: sensors not NORMAL, and each sensor's limits (a NORMAL sensor
        # changes only when a value leaves [low, high]).
        self._abnormal: set[str] = set()
        self._lows: dict[str, float] = {}
        self._highs: dict[str, float] = {}
        self._active: dict[str, Alarm] = {}  # by sensor: this coordinator's raised alarms
        self.book: dict[str, Alarm] = {}  # by id: active or unacknowledged alarms
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(AckRequested, self._on_ack)
        bus.subscribe(AlarmObserved, self._on_observed)

    def open_alarms(self) -> list[Alarm]:
        return sorted(self.book.values(), key=lambda alarm: alarm.raised_at)

    def _on_announced(self, event: SourceAnnounced) -> None:
        for info in event.announce.sensors:
            self._lows.pop(info.name, None)
            self._highs.pop(info.name, None)
            if info.safe_min is None and info.safe_max is None:
                self._ranges.pop(info.name, None)
                continue
            self._ranges[info.name] = SafeRange(info.safe_min, info.safe_max)
            if info.safe_min is not None:
                self._lows[info.name] = info.safe_min
            if info.safe_max is not None:
                self._highs[info.name] = info.safe_max

    def _on_frame(self, event: FrameReceived) -> None:
        fresh = event.fresh
        names, values = fresh.names, fresh.values
        # Fast path, C loops only: nobody in this frame is in alarm and every value is inside
        # its range, so no reading can raise, clear or move a peak.
        if (
            self._abnormal.isdisjoint(names)
            and all(map(le, map(self._lows.get, names, repeat(-math.inf)), values))
            and all(map(le, values, map(self._highs.get, names, repeat(math.inf))))
        ):
            return
        ranges = self._ranges
        conditions = self._conditions
        for name, value, taken_on in zip(names, values, fresh.taken_on, strict=True):
            safe = ranges.get(name)
            if safe is None:
                continue
            before = conditions.get(name, Condition.NORMAL)
            after = safe.evaluate(before, value)
            if after is before:
                if after is not Condition.NORMAL:
                    self._track_peak(name, value)
                continue
            conditions[name] = after
            if after is Condition.NORMAL:
                self._abnormal.discard(name)
            else:
                self._abnormal.add(name)
            if before is not Condition.NORMAL:
                self._clear(name, taken_on)
            if after is not Condition.NORMAL:
                self._raise(name, after, value, taken_on, safe.limit(after))

    def _track_peak(self, sensor: str, value: float) -> None:
        alarm = self._active.get(sensor)
        if alarm is None:
            return
        if alarm.kind is Condition.HIGH:
            alarm.peak = max(alarm.peak, value)
        else:
            alarm.peak = min(alarm.peak, value)

    def _raise(self, sensor: str, kind: Condition, value: float, at: int, limit: float) -> None:
        alarm = Alarm(uuid.uuid4().hex, sensor, kind, at, value, limit, peak=value)
        self._active[sensor] = alarm
        self.book[alarm.id] = alarm
        self._bus.emit(AlarmChanged(alarm, "raised"))

    def _clear(self, sensor: str, at: int) -> None:
        alarm = self._active.pop(sensor, None)
        if alarm is None:
            return
        alarm.cleared_at = at
        if alarm.acked_at is not None:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "cleared"))

    def _on_ack(self, event: AckRequested) -> None:
        request = event.request
        alarm = self.book.get(request.alarm_id)
        if alarm is None or alarm.acked_at is not None:
            return
        alarm.acked_at = request.at
        alarm.acked_by = request.by
        if not alarm.active:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "acked"))

    def _on_observed(self, event: AlarmObserved) -> None:
        seen = event.alarm
        alarm = self.book.get(seen.id)
        if alarm is None:
            if seen.active or seen.acked_at is None:
                self.book[seen.id] = seen
            return
        alarm.cleared_at = alarm.cleared_at or seen.cleared_at
        alarm.acked_at = alarm.acked_at or seen.acked_at
        alarm.acked_by = alarm.acked_by or seen.acked_by
        if not alarm.active and alarm.acked_at is not None:
            self.book.pop(alarm.id, None)
