"""What the control room knows about the plant, apart from how it is drawn.

A thin adapter over the one plant picture (`controlroom.plant.picture`), which decides what
every viewer message means; this adds what only the screen needs: each sensor's recent values
for its sparkline, the alarms that finished lately, and change flags. Messages are applied as
they arrive (cheap: a few dict and deque operations); the screen reads the model at most ten
times a second. Keeping the two apart is what lets 2,000 readings a second cost one redraw per
tenth of a second, not one per reading.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from controlroom.clock import now_us
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm
from controlroom.plant.picture import Changes, PlantPicture
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Condition, Liveness, SensorInfo, SensorState
from controlroom.wire.codec import Message

RECENT_POINTS = 600
FINISHED_ALARMS_KEPT = 50
# The alarm list's order: alarms in force (group 0) by priority, then what waits for the
# operator first (the second number), then newest first; then those finished, then those held.
_GROUP = {
    AlarmState.UNACKED: (0, 0),
    AlarmState.RETURNED_UNACKED: (0, 1),
    AlarmState.ACKED: (0, 2),
    AlarmState.NORMAL: (1, 0),
    AlarmState.SHELVED: (2, 0),
    AlarmState.SUPPRESSED: (2, 1),
    AlarmState.OUT_OF_SERVICE: (2, 2),
}


@dataclass(slots=True)
class SensorView:
    """One sensor as the operator sees it: the picture's state, and its recent values."""

    sensor_state: SensorState
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RECENT_POINTS))
    twin: bool = False  # two processes read it at once (a twin warning)

    @property
    def name(self) -> str:
        return self.sensor_state.sensor.name

    @property
    def info(self) -> SensorInfo:
        return self.sensor_state.sensor

    @property
    def liveness(self) -> Liveness:
        return self.sensor_state.liveness

    @property
    def condition(self) -> Condition:
        return self.sensor_state.condition

    @property
    def value(self) -> float | None:
        return self.sensor_state.value

    @property
    def taken_on(self) -> int | None:
        return self.sensor_state.taken_on

    @property
    def state(self) -> str:
        """The one word an operator sees (NORMAL, HIGH, LOW, STALE, OFFLINE)."""
        return self.sensor_state.state

    def values(self, count: int) -> list[float]:
        """The last `count` values, oldest first."""
        start = max(len(self.recent) - count, 0)
        return [v for _, v in itertools.islice(self.recent, start, None)]

    def points_since(self, since_us: int) -> list[tuple[int, float]]:
        return [p for p in self.recent if p[0] >= since_us]

    def frozen(self, points: int) -> SensorView:
        """A copy that no longer moves (the paused view), with its last `points` values."""
        state = SensorState(self.info, self.liveness, self.condition, self.value, self.taken_on)
        copy = SensorView(state, twin=self.twin)
        copy.recent.extend(itertools.islice(self.recent, max(len(self.recent) - points, 0), None))
        return copy


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
    """Sensors and alarms, with change flags the screen consumes once per redraw."""

    def __init__(self) -> None:
        self.picture = PlantPicture()
        self._views: dict[str, SensorView] = {}
        self.readings = RateMeter()
        self.messages = 0
        self.sensors_changed = True  # the set or the order of rows changed
        self.values_changed = True
        self.alarms_changed = True
        self._order: list[str] = []

    # --- reading -----------------------------------------------------------------------------

    @property
    def sensors(self) -> dict[str, SensorView]:
        """Every known sensor, its latest value included."""
        _ = self.picture.sensors  # the picture reads the frames it holds
        return self._views

    @property
    def alarms(self) -> dict[str, Alarm]:
        """Open alarms, and the latest few that finished."""
        closed = self.picture.closed
        latest = itertools.islice(reversed(closed), FINISHED_ALARMS_KEPT)
        return {key: closed[key] for key in latest} | self.picture.alarms

    def ordered(self) -> list[SensorView]:
        views = self.sensors
        if self.sensors_changed or len(self._order) != len(views):
            self._order = sorted(views)
        return [views[name] for name in self._order]

    def alarm_list(self) -> list[Alarm]:
        """What the operator must see first: alarms in force by priority, unacknowledged
        first, newest first; then those finished, then those held (shelved, suppressed, out of
        service)."""
        now = now_us()

        def rank(alarm: Alarm) -> tuple[int, int, int, int]:
            group, urgency = _GROUP[state_of(alarm, now)]
            return group, alarm.priority.rank, urgency, -alarm.raised_at

        return sorted(self.alarms.values(), key=rank)

    def alarm_of_sensors(self) -> dict[str, Alarm]:
        """Each sensor's most urgent active alarm (the alarm list's order), for its row's look."""
        found: dict[str, Alarm] = {}
        for alarm in self.alarm_list():
            if alarm.active:
                found.setdefault(alarm.sensor, alarm)
        return found

    def unacked(self) -> int:
        now = now_us()
        return sum(state_of(alarm, now).needs_ack for alarm in self.picture.alarms.values())

    def alarm_for(self, sensor: str) -> Alarm | None:
        """The sensor's alarm most in need of acknowledgement, if any."""
        for alarm in self.alarm_list():
            if alarm.sensor == sensor and state_of(alarm).needs_ack:
                return alarm
        return None

    def take_changes(self) -> tuple[bool, bool, bool]:
        """(sensors, values, alarms) changed since the last call; resets the flags. New values
        are read into the rows here (the picture reads its frames only when asked), so the
        redraw that follows shows them."""
        changes = (self.sensors_changed, self.values_changed, self.alarms_changed)
        if self.values_changed:
            _ = self.sensors
        self.sensors_changed = self.values_changed = self.alarms_changed = False
        return changes

    # --- loading from history ----------------------------------------------------------------

    def load_sensors(self, infos: Iterable[SensorInfo]) -> None:
        self.picture.remember(infos)
        self._add_views()

    def load_recent(self, recent: dict[str, list[tuple[int, float]]]) -> None:
        """Stored readings go before whatever arrived live meanwhile."""
        for name, points in recent.items():
            view = self._views.get(name)
            if view is None:
                continue
            live = list(view.recent)
            first_live = live[0][0] if live else None
            older = [p for p in points if first_live is None or p[0] < first_live]
            view.recent.clear()
            view.recent.extend(older + live)
            if view.sensor_state.value is None and older:
                view.sensor_state.taken_on, view.sensor_state.value = older[-1]
        self.values_changed = True

    def load_alarms(self, alarms: Iterable[Alarm]) -> None:
        changes = Changes()
        for alarm in alarms:
            self.picture.alarm(alarm, changes)
        self._take(changes)

    # --- live events -------------------------------------------------------------------------

    def apply(self, message: Message) -> Changes:
        self.messages += 1
        changes = self.picture.apply(message)
        self._take(changes)
        return changes

    def _take(self, changes: Changes) -> None:
        if changes.frame is not None:
            self._frame(changes.frame)
        if changes.described:
            self._add_views()
        if changes.described or changes.restated:
            self.values_changed = True
        if changes.alarms or changes.ended:
            self.alarms_changed = self.values_changed = True
        if changes.warnings:
            self._mark_twins()

    def _frame(self, frame: Frame) -> None:
        views = self._views
        for name, taken_on, value in zip(frame.names, frame.taken_on, frame.values, strict=True):
            view = views.get(name)
            if view is not None:
                view.recent.append((taken_on, value))
        self.readings.count(len(frame))
        self.values_changed = True

    def _add_views(self) -> None:
        for name, state in self.picture.sensors.items():
            if name not in self._views:
                self._views[name] = SensorView(state)
                self.sensors_changed = True
        self._mark_twins()

    def _mark_twins(self) -> None:
        for name in self.picture.warnings:
            view = self._views.get(name)
            if view is not None and not view.twin:
                view.twin = True
                self.values_changed = True
