"""Alarms: each sensor's stored definitions evaluated, holds and comments applied, operators'
acknowledgements taken.

Every sensor has its definitions (`AlarmLimit`): those stored in PostgreSQL (taken over at
start) or last changed by an operator (applied here, or by another coordinator and mirrored),
else those its announced safe range gives (`default_limits`). Each limit is an alarm point,
judged reading by reading by `judge` (deadband, on-delay, off-delay); a rate-of-change limit on
the rate between a sensor's readings; a SILENT definition makes silence (STALE, OFFLINE) an
alarm of its own.

The book holds every alarm that is open (active, held or unacknowledged), this coordinator's
and those other coordinators published, so any coordinator can acknowledge any alarm.

An active alarm is the state of its point, whoever raised it: one stored in PostgreSQL (taken
over at start) or another coordinator's (mirrored) is adopted as its point's alarm, so the
coordinator that evaluates the sensor next goes on with that alarm and clears it, instead of
raising a second one for the same excursion.

Holds (shelved, suppressed by design, out of service) belong to points and go through the
ISA-18.2 state machine (`alarm_states.step`); a timed shelving ends by itself at its time in
every coordinator that knows it (the release is named after that time, so all of them send the
same one), whoever shelved it.

What costs per reading: nothing for a sensor inside its quiet bounds (above every low limit,
below every high limit, no point active or waiting out a delay), checked per tick with C
loops; the rule in Python only for a sensor beyond a limit, in alarm, waiting out a delay, or
with a rate-of-change limit (its rate needs every reading).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, count
from operator import gt, le, or_

from controlroom.clock import now_us
from controlroom.config import DEFAULT_MAX_SHELVE_S
from controlroom.errors import ConfigError
from controlroom.plant import alarm_states
from controlroom.plant.alarm_limits import (
    AlarmLimit,
    Level,
    PointState,
    check_limits,
    default_limits,
    judge,
)
from controlroom.plant.alarm_states import AlarmState, Status, state_of, step
from controlroom.plant.alarms import (
    Alarm,
    Comment,
    Hold,
    HoldKind,
    alarm_id,
    silence_id,
)
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.records import Action
from controlroom.plant.sensors import Condition, Liveness
from controlroom.wire.envelopes import LimitsChange
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AckRequested,
    ActionTaken,
    AlarmChanged,
    AlarmObserved,
    ClockTicked,
    CommentRequested,
    FrameReceived,
    HoldChanged,
    HoldObserved,
    HoldRequested,
    LimitsChanged,
    LimitsObserved,
    LimitsRequested,
    LivenessChanged,
    SourceAnnounced,
)

log = logging.getLogger(__name__)

Point = tuple[str, Level]

_STRENGTH = {HoldKind.SHELVED: 1, HoldKind.SUPPRESSED: 2, HoldKind.OUT_OF_SERVICE: 3}
_HOLD_EVENTS: dict[HoldKind, alarm_states.Event] = {
    HoldKind.SHELVED: alarm_states.Unshelve(),
    HoldKind.SUPPRESSED: alarm_states.Unsuppress(),
    HoldKind.OUT_OF_SERVICE: alarm_states.ReturnToService(),
}


@dataclass(slots=True)
class _Sensor:
    """One sensor's definitions in force and where each of its points stands."""

    limits: tuple[AlarmLimit, ...] = ()  # on the value (LL..HH) and ROC, each a point
    silent: AlarmLimit | None = None
    known: bool = False  # definitions known (stored, changed or from a safe range)
    points: dict[Level, PointState] = field(default_factory=dict)
    low: float = -math.inf  # quiet bounds: no value limit is crossed inside them
    high: float = math.inf
    rate: bool = False
    last: tuple[float, int] | None = None  # the previous reading, for the rate

    def define(self, limits: list[AlarmLimit]) -> None:
        self.known = True
        self.limits = tuple(limit for limit in limits if limit.level is not Level.SILENT)
        self.silent = next((limit for limit in limits if limit.level is Level.SILENT), None)
        levels = {limit.level for limit in self.limits}
        for level in levels - set(self.points):
            self.points[level] = PointState()
        for level in [level for level in self.points if level not in levels]:
            if self.points[level].quiet:
                del self.points[level]
        lows = [
            limit.value for limit in self.limits if limit.level.on_value and not limit.level.high
        ]
        highs = [limit.value for limit in self.limits if limit.level.high]
        self.low = max(lows, default=-math.inf)
        self.high = min(highs, default=math.inf)
        self.rate = Level.ROC in levels
        if not self.rate:
            self.last = None

    @property
    def busy(self) -> bool:
        """Needs the rule for every reading (see the module's docstring)."""
        return self.rate or not all(point.quiet for point in self.points.values())


@dataclass(slots=True)
class _Bounds:
    """A source's sensors, in the order of its frames, with the values each may take without
    the rule having anything to do; none at all (low above high) for a busy sensor."""

    layout: Layout  # one tick's
    lows: list[float]
    highs: list[float]
    version: int  # the monitor's version these bounds are up to date with
    # Names the layout holds more than once (a backlog merged without its tick known): a
    # reading of one may change what the next one must be judged by, within the tick, so
    # each is always judged by the rule.
    repeated: frozenset[str] = frozenset()
    positions: dict[str, list[int]] | None = None  # each name's places, once first needed

    def places(self, name: str) -> list[int]:
        if self.positions is None:
            self.positions = {}
            for index, each in enumerate(self.layout.names):
                self.positions.setdefault(each, []).append(index)
        return self.positions.get(name, [])


# A change log longer than this is dropped: every source's bounds are made afresh instead.
CHANGES_KEPT = 100_000


class AlarmMonitor:
    def __init__(self, bus: MessageBus, *, max_shelve_s: float = DEFAULT_MAX_SHELVE_S) -> None:
        self._bus = bus
        self._max_shelve_us = round(max_shelve_s * 1_000_000)
        self._ranges: dict[str, tuple[float | None, float | None]] = {}  # announced
        self._stored: dict[str, LimitsChange] = {}  # definitions set by operators, by sensor
        self._sensors: dict[str, _Sensor] = {}
        self._busy: set[str] = set()
        self._bounds: dict[str, _Bounds] = {}  # by source
        # The sensors whose bounds changed (quiet bounds, busyness), in order, from version
        # _changes_from on: a source's bounds catch up by the names changed since theirs, so
        # a sensor that enters or leaves alarm costs its own places, not its source's width.
        self._changes: list[str] = []
        self._changes_from = 0
        self._version = 0
        self._active: dict[Point, Alarm] = {}  # by point: its active alarm
        self.book: dict[str, Alarm] = {}  # by id: open alarms
        self.holds: dict[Point, Hold] = {}  # each point's latest hold (or release)
        self._status: dict[Point, Status] = {}  # points not NORMAL, by the state machine
        self._now: int | None = None  # the latest round's clock (ClockTicked)
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(AckRequested, self._on_ack)
        bus.subscribe(CommentRequested, self._on_comment)
        bus.subscribe(HoldRequested, self._on_hold_request)
        bus.subscribe(LimitsRequested, self._on_limits_request)
        bus.subscribe(LimitsObserved, self._on_limits_observed)
        bus.subscribe(HoldObserved, self._on_hold_observed)
        bus.subscribe(AlarmObserved, self._on_observed)
        bus.subscribe(LivenessChanged, self._on_liveness)
        bus.subscribe(ClockTicked, self._on_tick)

    def limits_of(self, sensor: str) -> tuple[AlarmLimit, ...]:
        """The definitions in force for a sensor (SILENT included)."""
        known = self._sensors.get(sensor)
        if known is None:
            return ()
        return (*known.limits, *((known.silent,) if known.silent else ()))

    # --- definitions -----------------------------------------------------------------------

    def _on_announced(self, event: SourceAnnounced) -> None:
        for info in event.announce.sensors:
            safe = (info.safe_min, info.safe_max)
            if self._ranges.get(info.name) != safe or info.name not in self._sensors:
                self._ranges[info.name] = safe
                if info.name not in self._stored:
                    self._define(info.name, default_limits(info.name, *safe), now_us())

    def _on_limits_request(self, event: LimitsRequested) -> None:
        request = event.request
        try:
            check_limits(request.limits)
        except ConfigError as error:
            log.warning("refused %s's limits for %s: %s", request.by, request.sensor, error)
            return
        change = LimitsChange(
            request.sensor, request.limits, request.by, request.at, request.reason
        )
        if self._apply_limits(change, local=True):
            detail = {
                "reason": request.reason,
                "limits": [_limit_detail(limit) for limit in request.limits],
            }
            self._bus.emit(
                ActionTaken(Action(request.at, request.by, "limits", request.sensor, detail))
            )

    def _on_limits_observed(self, event: LimitsObserved) -> None:
        self._apply_limits(event.change, local=False)

    def _apply_limits(self, change: LimitsChange, *, local: bool) -> bool:
        """Definitions set by an operator: the newest wins. True if they are now in force."""
        known = self._stored.get(change.sensor)
        if known is not None and known.at >= change.at:
            return False
        try:
            check_limits(change.limits)
        except ConfigError as error:  # stored or mirrored: checked when made, so a bug
            log.warning("ignored definitions of %s: %s", change.sensor, error)
            return False
        self._stored[change.sensor] = change
        self._define(change.sensor, change.limits, change.at if local else now_us())
        if change.by:  # an operator's (the seed's, taken over at start, has nobody)
            log.info(
                "definitions of %s in force: %s (by %s: %s)",
                change.sensor, _limits_text(change.limits), change.by, change.reason,
            )  # fmt: skip
        if local:
            self._bus.emit(LimitsChanged(change))
        return True

    def _define(self, name: str, limits: list[AlarmLimit], at: int) -> None:
        sensor = self._sensor(name)
        sensor.define(limits)
        levels = {limit.level for limit in sensor.limits}
        for point in [point for point in self._active if point[0] == name]:
            if point[1] not in levels and point[1] is not Level.SILENT:
                self._clear(point, at)  # its limit is gone: nothing can clear it otherwise
                sensor.points.pop(point[1], None)
        self._restate(name, sensor)
        self._changed(name)

    def _changed(self, name: str) -> None:
        """A sensor's bounds changed: every source's bounds that hold it are stale."""
        if len(self._changes) >= CHANGES_KEPT:
            self._changes.clear()
            self._changes_from = self._version + 1
        self._changes.append(name)
        self._version += 1

    def _sensor(self, name: str) -> _Sensor:
        sensor = self._sensors.get(name)
        if sensor is None:
            sensor = self._sensors[name] = _Sensor()
        return sensor

    def _restate(self, name: str, sensor: _Sensor) -> None:
        busy = sensor.busy
        if busy is not (name in self._busy):
            if busy:
                self._busy.add(name)
            else:
                self._busy.discard(name)
            self._changed(name)

    # --- readings --------------------------------------------------------------------------

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
                bounds = self._catch_up(fresh.source, bounds)
            tick = values[start : start + width] if ticks > 1 else values
            lows, highs = bounds.lows, bounds.highs
            if all(map(le, lows, tick)) and all(map(le, tick, highs)):
                continue
            outside = map(or_, map(gt, lows, tick), map(gt, tick, highs))
            self._evaluate(fresh, list(compress(count(start), outside)))

    def _catch_up(self, source: str, bounds: _Bounds) -> _Bounds:
        """The source's bounds brought up to date: the places of the sensors changed since,
        or all of them made afresh when that is most of them (or the log was dropped)."""
        behind = self._version - bounds.version
        if bounds.version < self._changes_from or behind > len(bounds.layout) // 4:
            fresh = self._bounds[source] = self._bounds_of(bounds.layout)
            return fresh
        lows, highs = bounds.lows, bounds.highs
        for name in set(self._changes[bounds.version - self._changes_from :]):
            if name in bounds.repeated:
                continue
            low, high = self._bound(name)
            for index in bounds.places(name):
                lows[index], highs[index] = low, high
        bounds.version = self._version
        return bounds

    def _bound(self, name: str) -> tuple[float, float]:
        if name in self._busy:
            return math.inf, -math.inf
        sensor = self._sensors.get(name)
        if sensor is None:
            return -math.inf, math.inf
        return sensor.low, sensor.high

    def _bounds_of(self, layout: Layout) -> _Bounds:
        sensors, busy = self._sensors, self._busy
        repeated: frozenset[str] = frozenset()
        if len(set(layout.names)) != len(layout.names):
            counts = Counter(layout.names)
            repeated = frozenset(name for name, times in counts.items() if times > 1)
            busy = busy | repeated
        lows, highs = [], []
        for name in layout.names:
            sensor = sensors.get(name)
            if name in busy:
                lows.append(math.inf)
                highs.append(-math.inf)
            elif sensor is None:
                lows.append(-math.inf)
                highs.append(math.inf)
            else:
                lows.append(sensor.low)
                highs.append(sensor.high)
        return _Bounds(layout, lows, highs, self._version, repeated)

    def _evaluate(self, frame: Frame, indexes: range | list[int]) -> None:
        """The limit rule for the readings at `indexes`, in order: for each, the points that
        clear first, then those that turn active."""
        sensors = self._sensors
        names, values, taken_on, seqs = frame.names, frame.values, frame.taken_on, frame.seqs
        for index in indexes:
            name = names[index]
            sensor = sensors.get(name)
            if sensor is None or not sensor.limits:
                continue
            value, at = values[index], taken_on[index]
            rate = None
            if sensor.rate:
                last, sensor.last = sensor.last, (value, at)
                if last is not None and at > last[1]:
                    rate = (value - last[0]) * 1_000_000 / (at - last[1])
            flipped: list[tuple[AlarmLimit, float]] = []
            for limit in sensor.limits:
                level = limit.level
                measured = value if level is not Level.ROC else rate
                if measured is None:
                    continue
                point = sensor.points[level]
                if judge(limit, point, measured, at):
                    flipped.append((limit, measured))
                elif point.active:
                    alarm = self._active.get((name, level))
                    if alarm is not None:
                        alarm.track(measured)
            for limit, _ in flipped:
                if not sensor.points[limit.level].active:
                    self._clear((name, limit.level), at)
            for limit, measured in flipped:
                if sensor.points[limit.level].active:
                    self._raise(
                        limit, measured, at, alarm_id(name, limit.level, frame.run, seqs[index])
                    )
            self._restate(name, sensor)

    # --- alarms ----------------------------------------------------------------------------

    def _raise(self, limit: AlarmLimit, measured: float, at: int, identity: str) -> None:
        point = (limit.sensor, limit.level)
        if point in self._active:  # adopted meanwhile: that alarm goes on
            return
        if limit.level is Level.ROC:
            kind = Condition.HIGH if measured > 0 else Condition.LOW
            bound = limit.value if measured > 0 else -limit.value
        else:
            kind = Condition.HIGH if limit.level.high else Condition.LOW
            bound = limit.value
        hold = self.holds.get(point)
        alarm = Alarm(
            identity, limit.sensor, kind, at, measured, bound, peak=measured,
            level=limit.level, priority=limit.priority,
            hold=hold if hold is not None and hold.in_force(None) else None,
        )  # fmt: skip
        self._open(point, alarm)

    def _open(self, point: Point, alarm: Alarm) -> None:
        self._active[point] = alarm
        self.book[alarm.id] = alarm
        self._step(point, alarm_states.Activate())
        self._bus.emit(AlarmChanged(alarm, "raised"))

    def _clear(self, point: Point, at: int) -> None:
        alarm = self._active.pop(point, None)
        if alarm is None:
            return
        alarm.cleared_at = max(at, alarm.raised_at)
        hold = self.holds.get(point)
        status = self._step(point, alarm_states.Return())
        if (
            hold is not None
            and hold.kind is HoldKind.SHELVED
            and hold.until is None
            and status.state is not AlarmState.SHELVED
        ):  # one-shot: it ended as the alarm cleared
            at = max(alarm.cleared_at, hold.at + 1)
            self._apply_hold(Hold(*point, None, at, hold.by, "cleared"), local=True)
        if not alarm.open:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "cleared"))

    def _on_liveness(self, event: LivenessChanged) -> None:
        """Silence as an alarm of its own, for a sensor whose definitions say so."""
        sensor = self._sensors.get(event.sensor)
        if sensor is None or sensor.silent is None:
            return
        point = (event.sensor, Level.SILENT)
        if event.liveness is Liveness.LIVE:
            self._clear(point, event.at)
        elif point not in self._active:
            last = sensor.last[0] if sensor.last is not None else 0.0
            alarm = Alarm(
                silence_id(event.sensor, event.at), event.sensor, Condition.NORMAL, event.at,
                last, 0.0, last, level=Level.SILENT, priority=sensor.silent.priority,
                hold=_in_force(self.holds.get(point)),
            )  # fmt: skip
            self._open(point, alarm)

    def _on_ack(self, event: AckRequested) -> None:
        request = event.request
        alarm = self.book.get(request.alarm_id)
        if alarm is None or not state_of(alarm, self._now).needs_ack:
            return
        # Never before the alarm came back from a hold: that acknowledgement would not count.
        alarm.acked_at = max(request.at, alarm.released_at or 0, alarm.raised_at)
        alarm.acked_by = request.by
        if request.comment.strip():
            alarm.add_comments([Comment(alarm.acked_at, request.by, request.comment)])
        self._step(alarm.point, alarm_states.Acknowledge())
        if not alarm.open:
            self.book.pop(alarm.id, None)
        self._bus.emit(AlarmChanged(alarm, "acked"))
        detail = {"alarm_id": alarm.id, "level": alarm.alarm_level.value}
        if request.comment:
            detail["comment"] = request.comment
        self._bus.emit(ActionTaken(Action(request.at, request.by, "ack", alarm.sensor, detail)))

    def _on_comment(self, event: CommentRequested) -> None:
        request = event.request
        alarm = self.book.get(request.alarm_id)
        if alarm is None:
            log.info("comment on alarm %s, which is not open here: ignored", request.alarm_id)
            return
        if alarm.add_comments([Comment(request.at, request.by, request.text)]):
            self._bus.emit(AlarmChanged(alarm, "commented"))
            detail = {"alarm_id": alarm.id, "comment": request.text}
            self._bus.emit(
                ActionTaken(Action(request.at, request.by, "comment", alarm.sensor, detail))
            )

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
        elif self._active.get(alarm.point) is alarm:
            self._release(alarm)

    def _adopt(self, alarm: Alarm) -> None:
        """An active alarm known elsewhere becomes its point's, unless it has one already."""
        point = alarm.point
        if point in self._active:
            return
        self._active[point] = alarm
        self._step(point, alarm_states.Activate())
        if alarm.alarm_level is Level.SILENT:
            return
        sensor = self._sensor(alarm.sensor)
        sensor.points.setdefault(alarm.alarm_level, PointState()).active = True
        sensor.points[alarm.alarm_level].since_us = None
        self._restate(alarm.sensor, sensor)

    def _release(self, alarm: Alarm) -> None:
        """An adopted alarm cleared by whoever evaluates its sensor now."""
        point = alarm.point
        del self._active[point]
        self._step(point, alarm_states.Return())
        sensor = self._sensors.get(alarm.sensor)
        state = sensor.points.get(alarm.alarm_level) if sensor is not None else None
        if sensor is not None and state is not None:
            state.active, state.since_us = False, None
            self._restate(alarm.sensor, sensor)

    # --- holds -----------------------------------------------------------------------------

    def _on_hold_request(self, event: HoldRequested) -> None:
        request = event.request
        if request.until is not None and request.until - request.at > self._max_shelve_us:
            log.warning(
                "refused %s's shelving of %s %s: longer than the %.0f h allowed",
                request.by, request.sensor, request.level.value, self._max_shelve_us / 3.6e9,
            )  # fmt: skip
            return
        hold = request.hold()
        if self._apply_hold(hold, local=True):
            what = "unhold" if hold.kind is None else hold.kind.value
            detail: dict[str, object] = {"level": hold.level.value, "reason": hold.reason}
            if hold.until is not None:
                detail["until"] = hold.until
            self._bus.emit(ActionTaken(Action(hold.at, hold.by, what, hold.sensor, detail)))

    def _on_hold_observed(self, event: HoldObserved) -> None:
        self._apply_hold(event.hold, local=False)

    def _apply_hold(self, hold: Hold, *, local: bool) -> bool:
        """A point's hold (or its release): the newest wins. True if it is now the point's."""
        point = hold.point
        before = self.holds.get(point)
        if not hold.newer_than(before):
            return False
        if hold.kind is None and (before is None or not before.in_force(None)):
            return False  # nothing holds the point: nothing to release
        if (
            hold.kind is not None
            and before is not None
            and before.in_force(None)
            and _STRENGTH[hold.kind] < _STRENGTH[before.kind]  # type: ignore[index]
        ):  # holds do not stack: a weaker one over a stronger changes nothing (`step`)
            log.info("%s %s is %s already: not %s", *point, before.kind, hold.kind.value)
            return False
        self.holds[point] = hold
        if hold.kind is None:
            if before is not None and before.kind is not None:
                self._step(point, _HOLD_EVENTS[before.kind])
        elif hold.kind is HoldKind.SHELVED:
            self._step(point, alarm_states.Shelve(hold.until))
        elif hold.kind is HoldKind.SUPPRESSED:
            self._step(point, alarm_states.Suppress())
        else:
            self._step(point, alarm_states.RemoveFromService())
        for alarm in [alarm for alarm in self.book.values() if alarm.point == point]:
            if hold.kind is None and alarm.hold is None:
                continue  # a release ends a hold the alarm had (as the picture's rule)
            alarm.hold = hold
            if not alarm.open:
                del self.book[alarm.id]
            if local:
                self._bus.emit(AlarmChanged(alarm, "held"))
        if local:
            self._bus.emit(HoldChanged(hold))
        return True

    def _on_tick(self, event: ClockTicked) -> None:
        """Timed shelvings whose time is up end, here as in every coordinator that knows them:
        the release is named after the shelving's end, so all send the same one."""
        now = self._now = event.now_us
        for hold in [hold for hold in self.holds.values() if hold.until is not None]:
            if hold.kind is HoldKind.SHELVED and hold.until is not None and hold.until <= now:
                self._step(hold.point, alarm_states.Tick(now))
                ended = Hold(hold.sensor, hold.level, None, hold.until, hold.by, "time up")
                if self._apply_hold(ended, local=True):
                    detail = {"level": hold.level.value, "reason": "shelving time up"}
                    action = Action(hold.until, hold.by, "shelving ended", hold.sensor, detail)
                    self._bus.emit(ActionTaken(action))

    def _step(self, point: Point, event: alarm_states.Event) -> Status:
        status = step(self._status.get(point, alarm_states.NORMAL), event)
        if status == alarm_states.NORMAL:
            self._status.pop(point, None)
        else:
            self._status[point] = status
        return status

    def status_of(self, point: Point) -> Status:
        """The point's state by the state machine (tests compare it with `state_of`)."""
        return self._status.get(point, alarm_states.NORMAL)


def _in_force(hold: Hold | None) -> Hold | None:
    return hold if hold is not None and hold.in_force(None) else None


def _limits_text(limits: list[AlarmLimit]) -> str:
    return ", ".join(f"{limit.level.value} {limit.value:g}" for limit in limits) or "none"


def _limit_detail(limit: AlarmLimit) -> dict[str, object]:
    return {
        "level": limit.level.value,
        "value": limit.value,
        "priority": limit.priority.value,
        "deadband": limit.deadband,
        "on_delay_s": limit.on_delay_s,
        "off_delay_s": limit.off_delay_s,
    }
