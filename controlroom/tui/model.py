"""What the control room knows about the plant, apart from how it is drawn.

Messages from the events exchange are applied here as they arrive (cheap: a few dict and
deque operations); the screen reads the model at most ~10 times a second. Keeping the two
apart is what lets 2,000 readings a second cost one redraw per frame, not one per reading.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from controlroom.messages import (
    Alarm,
    AlarmEvent,
    Condition,
    Frame,
    Liveness,
    Message,
    SensorInfo,
    Snapshot,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    display_state,
)

RECENT_POINTS = 600
FINISHED_ALARMS_KEPT = 50


@dataclass(slots=True)
class SensorView:
    """One sensor as the operator sees it."""

    info: SensorInfo
    liveness: Liveness = Liveness.OFFLINE
    condition: Condition = Condition.NORMAL
    value: float | None = None
    taken_on: int | None = None
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RECENT_POINTS))

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def state(self) -> str:
        return display_state(self.liveness, self.condition)

    def values(self, count: int) -> list[float]:
        """The last `count` values, oldest first."""
        start = max(len(self.recent) - count, 0)
        return [v for _, v in itertools.islice(self.recent, start, None)]

    def points_since(self, since_us: int) -> list[tuple[int, float]]:
        return [p for p in self.recent if p[0] >= since_us]

    def add(self, taken_on: int, value: float) -> None:
        if self.taken_on is None or taken_on >= self.taken_on:
            self.value, self.taken_on = value, taken_on
        self.recent.append((taken_on, value))


class RateMeter:
    """Readings per second over the last few seconds, for the header."""

    def __init__(self, window_s: float = 3.0) -> None:
        self._window = window_s
        self._marks: deque[tuple[float, int]] = deque()
        self.total = 0

    def count(self, n: int) -> None:
        self.total += n

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._marks.append((now, self.total))
        while len(self._marks) > 1 and now - self._marks[0][0] > self._window:
            self._marks.popleft()
        first_at, first_total = self._marks[0]
        elapsed = now - first_at
        return (self.total - first_total) / elapsed if elapsed > 0 else 0.0


class PlantModel:
    """Sensors and alarms, with change flags the screen consumes once per frame."""

    def __init__(self) -> None:
        self.sensors: dict[str, SensorView] = {}
        self.alarms: dict[str, Alarm] = {}
        self.readings = RateMeter()
        self.messages = 0
        self.sensors_changed = True  # the set or the order of rows changed
        self.values_changed = True
        self.alarms_changed = True
        self._order: list[str] = []

    # --- reading -----------------------------------------------------------------------------

    def ordered(self) -> list[SensorView]:
        if self.sensors_changed or len(self._order) != len(self.sensors):
            self._order = sorted(self.sensors)
        return [self.sensors[name] for name in self._order]

    def alarm_list(self) -> list[Alarm]:
        """Unacknowledged first (active before cleared), then acknowledged active, newest first."""

        def rank(alarm: Alarm) -> tuple[int, int]:
            if alarm.acked_at is None:
                group = 0 if alarm.active else 1
            else:
                group = 2 if alarm.active else 3
            return group, -alarm.raised_at

        return sorted(self.alarms.values(), key=rank)

    def unacked(self) -> int:
        return sum(1 for alarm in self.alarms.values() if alarm.acked_at is None)

    def alarm_for(self, sensor: str) -> Alarm | None:
        """The sensor's alarm most in need of acknowledgement, if any."""
        for alarm in self.alarm_list():
            if alarm.sensor == sensor and alarm.acked_at is None:
                return alarm
        return None

    def take_changes(self) -> tuple[bool, bool, bool]:
        """(sensors, values, alarms) changed since the last call; resets the flags."""
        changes = (self.sensors_changed, self.values_changed, self.alarms_changed)
        self.sensors_changed = self.values_changed = self.alarms_changed = False
        return changes

    # --- loading from history ----------------------------------------------------------------

    def load_sensors(self, infos: Iterable[SensorInfo]) -> None:
        for info in infos:
            view = self.sensors.get(info.name)
            if view is None:
                self.sensors[info.name] = SensorView(info)
                self.sensors_changed = True
            elif view.info != info and not view.info.serial_no and not view.info.unit:
                view.info = info
        self.values_changed = True

    def load_recent(self, recent: dict[str, list[tuple[int, float]]]) -> None:
        """Stored readings go before whatever arrived live meanwhile."""
        for name, points in recent.items():
            view = self._sensor(name)
            live = list(view.recent)
            first_live = live[0][0] if live else None
            older = [p for p in points if first_live is None or p[0] < first_live]
            view.recent.clear()
            view.recent.extend(older + live)
            if view.value is None and older:
                view.taken_on, view.value = older[-1]
        self.values_changed = True

    def load_alarms(self, alarms: Iterable[Alarm]) -> None:
        for alarm in alarms:
            self._merge_alarm(alarm)

    # --- live events -------------------------------------------------------------------------

    def apply(self, message: Message) -> None:
        self.messages += 1
        if isinstance(message, Frame):
            self._frame(message)
        elif isinstance(message, StatusChange):
            self._status(message)
        elif isinstance(message, StatusChanges):
            for change in message.changes:
                self._status(change)
        elif isinstance(message, AlarmEvent):
            self._merge_alarm(message.alarm)
        elif isinstance(message, SourceState):
            self._source(message)
        elif isinstance(message, SourceStates):
            for state in message.sources:
                self._source(state)
        elif isinstance(message, Snapshot):
            for source in message.sources:
                self._source(source)
            known = {alarm.id for alarm in message.alarms}
            for alarm in message.alarms:
                self._merge_alarm(alarm)
            # Open alarms the coordinator no longer lists ended while we were not looking.
            for alarm in list(self.alarms.values()):
                if alarm.id not in known and (alarm.active or alarm.acked_at is None):
                    del self.alarms[alarm.id]
                    self.alarms_changed = True

    def _frame(self, frame: Frame) -> None:
        sensors = self.sensors
        for name, taken_on, value in zip(frame.names, frame.taken_on, frame.values, strict=True):
            view = sensors.get(name)
            if view is None:
                view = self._sensor(name)
                view.liveness = Liveness.LIVE
            view.add(taken_on, value)
        self.readings.count(len(frame))
        self.values_changed = True

    def _status(self, change: StatusChange) -> None:
        view = self._sensor(change.sensor)
        if view.liveness is not change.liveness:
            view.liveness = change.liveness
            self.values_changed = True

    def _source(self, state: SourceState) -> None:
        view = self._sensor(state.sensor.name)
        view.info = state.sensor
        view.liveness = state.liveness
        view.condition = state.condition
        newer = view.taken_on is None or (state.taken_on or 0) > view.taken_on
        if state.value is not None and state.taken_on is not None and newer:
            view.add(state.taken_on, state.value)
        self.values_changed = True

    def _merge_alarm(self, alarm: Alarm) -> None:
        known = self.alarms.get(alarm.id)
        if known is not None:
            # Events may cross; a field once set stays set.
            alarm.cleared_at = alarm.cleared_at or known.cleared_at
            alarm.acked_at = alarm.acked_at or known.acked_at
            alarm.acked_by = alarm.acked_by or known.acked_by
        self.alarms[alarm.id] = alarm
        view = self._sensor(alarm.sensor)
        if alarm.active:
            view.condition = alarm.kind
        elif all(not a.active for a in self._alarms_of(alarm.sensor)):
            view.condition = Condition.NORMAL
        self._forget_finished()
        self.alarms_changed = self.values_changed = True

    def _alarms_of(self, sensor: str) -> Iterator[Alarm]:
        return (alarm for alarm in self.alarms.values() if alarm.sensor == sensor)

    def _forget_finished(self) -> None:
        finished = [a for a in self.alarms.values() if not a.active and a.acked_at is not None]
        if len(finished) > FINISHED_ALARMS_KEPT:
            finished.sort(key=lambda a: a.raised_at)
            for alarm in finished[: len(finished) - FINISHED_ALARMS_KEPT]:
                del self.alarms[alarm.id]

    def _sensor(self, name: str) -> SensorView:
        view = self.sensors.get(name)
        if view is None:
            view = self.sensors[name] = SensorView(SensorInfo(name))
            self.sensors_changed = True
        return view
