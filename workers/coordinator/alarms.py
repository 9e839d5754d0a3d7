"""Safe-range alarms: raised and cleared with hysteresis, acknowledged by operators.

The book holds every alarm that is open (active or unacknowledged), this coordinator's and those
other coordinators published, so any coordinator can acknowledge any alarm.

An active alarm is the state of its sensor, whoever raised it: one stored in PostgreSQL (taken
over at start) or another coordinator's (mirrored) is adopted as the sensor's alarm, so the
coordinator that evaluates the sensor next goes on with that alarm and clears it, instead of
raising a second one for the same excursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress, count
from operator import gt, le, or_

from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm, SafeRange, alarm_id
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.sensors import Condition
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AckRequested,
    AlarmChanged,
    AlarmObserved,
    FrameReceived,
    SourceAnnounced,
)


@dataclass(slots=True)
class _Bounds:
    """A source's sensors, in the order of its frames, with the values each may take without
    the rule having anything to do: a NORMAL sensor's safe range; none at all (low above
    high) for a sensor in alarm, whose every reading may clear it or move its peak."""

    layout: Layout  # one tick's
    lows: list[float]
    highs: list[float]
    version: int


class AlarmMonitor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._ranges: dict[str, SafeRange] = {}
        self._conditions: dict[str, Condition] = {}
        self._abnormal: set[str] = set()
        self._bounds: dict[str, _Bounds] = {}  # by source
        # Bumped whenever a range or a condition changes, which makes every _Bounds stale.
        self._version = 0
        self._active: dict[str, Alarm] = {}  # by sensor: this coordinator's raised alarms
        self.book: dict[str, Alarm] = {}  # by id: active or unacknowledged alarms
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(AckRequested, self._on_ack)
        bus.subscribe(AlarmObserved, self._on_observed)

    def _on_announced(self, event: SourceAnnounced) -> None:
        for info in event.announce.sensors:
            if info.safe_min is None and info.safe_max is None:
                self._ranges.pop(info.name, None)
            else:
                self._ranges[info.name] = SafeRange(info.safe_min, info.safe_max)
        self._version += 1

    def _on_frame(self, event: FrameReceived) -> None:
        fresh = event.fresh
        bounds = self._bounds.get(fresh.source)
        ticks = fresh.ticks_of(bounds.layout) if bounds is not None else 0
        if not ticks:
            # Sensors this source has not sent in this order before: the rule, reading by
            # reading, then bounds for its next frames.
            self._evaluate(fresh, range(len(fresh)))
            self._bounds[fresh.source] = self._bounds_of(fresh.layout.tick)
            return
        # Fast path, C loops only: per tick, the readings outside their bounds, usually none.
        assert bounds is not None
        width = len(bounds.layout)
        values = fresh.values
        for start in range(0, len(fresh), width):
            if bounds.version != self._version:
                bounds = self._bounds[fresh.source] = self._bounds_of(bounds.layout)
            tick = values[start : start + width] if ticks > 1 else values
            lows, highs = bounds.lows, bounds.highs
            if all(map(le, lows, tick)) and all(map(le, tick, highs)):
                continue
            outside = map(or_, map(gt, lows, tick), map(gt, tick, highs))
            self._evaluate(fresh, list(compress(count(start), outside)))

    def _bounds_of(self, layout: Layout) -> _Bounds:
        ranges, abnormal = self._ranges, self._abnormal
        lows, highs = [], []
        for name in layout.names:
            safe = ranges.get(name)
            if name in abnormal:
                lows.append(math.inf)
                highs.append(-math.inf)
            elif safe is None:
                lows.append(-math.inf)
                highs.append(math.inf)
            else:
                lows.append(-math.inf if safe.low is None else safe.low)
                highs.append(math.inf if safe.high is None else safe.high)
        return _Bounds(layout, lows, highs, self._version)

    def _evaluate(self, frame: Frame, indexes: range | list[int]) -> None:
        """The safe-range rule for the readings at `indexes`, in order."""
        ranges = self._ranges
        conditions = self._conditions
        names, values, taken_on, seqs = frame.names, frame.values, frame.taken_on, frame.seqs
        for index in indexes:
            name = names[index]
            safe = ranges.get(name)
            if safe is None:
                continue
            value = values[index]
            before = conditions.get(name, Condition.NORMAL)
            after = safe.evaluate(before, value)
            if after is before:
                if after is not Condition.NORMAL:
                    self._track_peak(name, value)
                continue
            conditions[name] = after
            self._version += 1
            if after is Condition.NORMAL:
                self._abnormal.discard(name)
            else:
                self._abnormal.add(name)
            if before is not Condition.NORMAL:
                self._clear(name, taken_on[index])
            if after is not Condition.NORMAL:
                identity = alarm_id(name, after, frame.run, seqs[index])
                self._raise(identity, name, after, value, taken_on[index], safe.limit(after))

    def _track_peak(self, sensor: str, value: float) -> None:
        alarm = self._active.get(sensor)
        if alarm is not None:
            alarm.track(value)

    def _raise(
        self, identity: str, sensor: str, kind: Condition, value: float, at: int, limit: float
    ) -> None:
        alarm = Alarm(identity, sensor, kind, at, value, limit, peak=value)
        self._active[sensor] = alarm
        self.book[alarm.id] = alarm
        self._bus.emit(AlarmChanged(alarm, "raised"))

    def _clear(self, sensor: str, at: int) -> None:
        alarm = self._active.pop(sensor, None)
        if alarm is None:
            return
        alarm.cleared_at = at
        if state_of(alarm) is AlarmState.NORMAL:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "cleared"))

    def _on_ack(self, event: AckRequested) -> None:
        request = event.request
        alarm = self.book.get(request.alarm_id)
        if alarm is None or not state_of(alarm).needs_ack:
            return
        alarm.acked_at = request.at
        alarm.acked_by = request.by
        if state_of(alarm) is AlarmState.NORMAL:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "acked"))

    def _on_observed(self, event: AlarmObserved) -> None:
        """Another copy of an alarm: another coordinator's, or one stored (taken over)."""
        seen = event.alarm
        alarm = self.book.get(seen.id)
        if alarm is None:
            if not seen.open:
                return
            alarm = self.book[seen.id] = seen
        else:
            alarm.absorb(seen)
            if not alarm.open:
                self.book.pop(alarm.id, None)
        if alarm.active:
            self._adopt(alarm)
        elif self._active.get(alarm.sensor) is alarm:
            self._release(alarm)

    def _adopt(self, alarm: Alarm) -> None:
        """An active alarm known elsewhere becomes its sensor's, unless it has one already."""
        if alarm.sensor in self._active:
            return
        self._active[alarm.sensor] = alarm
        self._conditions[alarm.sensor] = alarm.kind
        self._abnormal.add(alarm.sensor)
        self._version += 1

    def _release(self, alarm: Alarm) -> None:
        """An adopted alarm cleared by whoever evaluates its sensor now."""
        del self._active[alarm.sensor]
        self._conditions[alarm.sensor] = Condition.NORMAL
        self._abnormal.discard(alarm.sensor)
        self._version += 1
