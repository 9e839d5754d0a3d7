"""The plant as a viewer sees it, folded from the coordinator's events: one home for the rules.

The coordinator's registry (the source of snapshots), the control room's model and the
bridge's view are thin adapters over `PlantPicture`: each applies what it hears and acts on
the `Changes` it is told about. The rules, decided once:

- A sensor exists once it is described (announced, in a snapshot, or remembered from
  history); a frame naming sensors the picture does not know adds nothing, and says so
  (`Changes.unknown`), so the viewer can ask for a snapshot.
- A sensor's condition is that of its newest active alarm the picture knows; with none
  known, what the coordinator last said.
- Copies of an alarm merge by `Alarm.absorb`. An alarm is kept while it is open (active or
  not acknowledged); once closed it is reported and moves to `closed` (the latest few), so
  a late copy of it (an older event arriving last) cannot open it again.
- An alarm point's hold (shelved, suppressed, out of service, or released) is kept by point,
  the newest winning (`Hold.newer_than`), and given to the point's open alarms, so their
  state (`alarm_states.state_of`) is the same wherever it is read; a sensor's definitions are
  kept as last heard (`limits`).
- A twin warning (one sensor read by two sources at once) is kept by sensor, the latest of
  each; there is no all-clear, so it stays while the viewer runs (the newest `WARNINGS_KEPT`).
- A snapshot lists every open alarm: one the picture holds that the snapshot does not list
  closed while the viewer was not listening. It is forgotten and reported in `Changes.ended`
  (no time is made up for how it ended).

Readings cost nothing per reading here: each source's newest frame is kept as it came, and
sensors' latest values are read from it only when someone looks (`sensors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from controlroom.plant.alarm_limits import Level
from controlroom.plant.alarms import Alarm, Hold
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.sensors import Condition, Liveness, SensorInfo, SensorState
from controlroom.wire.codec import Message
from controlroom.wire.envelopes import (
    AlarmEvent,
    HoldEvent,
    LimitsChange,
    Snapshot,
    SourceStates,
    StatusChange,
    StatusChanges,
    TwinWarning,
)

# Closed alarms remembered, so late copies of them stay closed (and screens can show the
# latest); beyond this the oldest is forgotten.
CLOSED_KEPT = 1000
# Twin warnings remembered, by sensor; beyond this the oldest is forgotten.
WARNINGS_KEPT = 1000


@dataclass(slots=True)
class Changes:
    """What one message changed."""

    described: list[SensorState] = field(default_factory=list)  # new, or new metadata
    restated: list[SensorState] = field(default_factory=list)  # liveness or condition changed
    alarms: list[Alarm] = field(default_factory=list)  # new or changed, in their merged state
    ended: list[Alarm] = field(default_factory=list)  # closed unseen (a snapshot's verdict)
    warnings: list[TwinWarning] = field(default_factory=list)  # new twin warnings
    holds: list[Hold] = field(default_factory=list)  # new holds (or releases)
    frame: Frame | None = None
    unknown: bool = False  # the frame names sensors the picture does not know

    def __bool__(self) -> bool:
        return bool(
            self.described
            or self.restated
            or self.alarms
            or self.ended
            or self.warnings
            or self.holds
            or self.frame
        )


class PlantPicture:
    """Known sensors and open alarms; `apply` a viewer message and read what changed."""

    def __init__(self, max_sensors: int | None = None) -> None:
        self._sensors: dict[str, SensorState] = {}
        self.alarms: dict[str, Alarm] = {}  # open alarms, by id
        self.closed: dict[str, Alarm] = {}  # the latest closed alarms, oldest first
        self._alarms_of: dict[str, dict[str, Alarm]] = {}  # open alarms, by sensor then id
        self.warnings: dict[str, TwinWarning] = {}  # twin warnings, by sensor, oldest first
        self.holds: dict[tuple[str, Level], Hold] = {}  # each point's latest hold or release
        self.limits: dict[str, LimitsChange] = {}  # definitions changed while listening
        self._max_sensors = max_sensors
        # By source: its newest frame, not yet read into the sensors' values. A frame of the
        # same layout replaces it unread, so a source that ticks costs nothing here.
        self._unread: dict[str, Frame] = {}
        # Each sensor's latest (value, taken_on) from frames read, not yet in its state.
        self._latest: dict[str, tuple[float, int]] = {}
        # By source: the (one-tick) layout of its frames whose sensors are all known.
        self._described: dict[str, Layout] = {}

    # --- reading ---------------------------------------------------------------------------

    @property
    def sensors(self) -> dict[str, SensorState]:
        """Every known sensor's state, its latest value included."""
        self._catch_up()
        return self._sensors

    def knows(self, name: str) -> bool:
        return name in self._sensors

    def open_alarms(self) -> list[Alarm]:
        return sorted(self.alarms.values(), key=lambda alarm: alarm.raised_at)

    # --- applying --------------------------------------------------------------------------

    def apply(self, message: Message) -> Changes:
        changes = Changes()
        if isinstance(message, Frame):
            self.frame(message, changes)
        elif isinstance(message, StatusChange):
            self.liveness(message.sensor, message.liveness, changes)
        elif isinstance(message, StatusChanges):
            for change in message.changes:
                self.liveness(change.sensor, change.liveness, changes)
        elif isinstance(message, AlarmEvent):
            self.alarm(message.alarm, changes)
        elif isinstance(message, SensorState):  # a SourceState
            self.state(message, changes)
        elif isinstance(message, SourceStates):
            for state in message.sources:
                self.state(state, changes)
        elif isinstance(message, Snapshot):
            self.snapshot(message, changes)
        elif isinstance(message, TwinWarning):
            self.warning(message, changes)
        elif isinstance(message, HoldEvent):
            self.hold(message.hold, changes)
        elif isinstance(message, LimitsChange):
            known = self.limits.get(message.sensor)
            if known is None or message.at > known.at:
                self.limits[message.sensor] = message
        return changes

    def frame(self, frame: Frame, changes: Changes) -> None:
        source = frame.source
        tick = frame.layout.tick
        unread = self._unread.get(source)
        if unread is not None and unread.layout.tick is not tick:
            self._read(unread)  # it holds sensors the new frame may not: keep their values
        self._unread[source] = frame
        changes.frame = frame
        if self._described.get(source) is not tick:
            sensors = self._sensors
            if all(name in sensors for name in tick.names):
                self._described[source] = tick
            else:
                changes.unknown = True

    def describe(self, info: SensorInfo, changes: Changes) -> SensorState | None:
        """A sensor announced itself (or was remembered): its metadata, added or updated."""
        known = self._sensors.get(info.name)
        if known is None:
            self._catch_up()  # readings from before it was described are not its values
            if self._max_sensors is not None and len(self._sensors) >= self._max_sensors:
                return None
            known = self._sensors[info.name] = SensorState(info)
            known.condition = self._condition(info.name, Condition.NORMAL)
            changes.described.append(known)
        elif known.sensor != info:
            known.sensor = info
            changes.described.append(known)
        return known

    def remember(self, infos: Iterable[SensorInfo]) -> None:
        """Sensors from history: added if unknown; what was heard live is newer and stays."""
        ignored = Changes()
        for info in infos:
            if info.name not in self._sensors:
                self.describe(info, ignored)

    def state(self, state: SensorState, changes: Changes) -> None:
        """The coordinator's word on a sensor: metadata, liveness, condition, last value."""
        name = state.sensor.name
        before = self._sensors.get(name)
        was = None if before is None else before.state
        known = self.describe(state.sensor, changes)
        if known is None:
            return
        known.liveness = state.liveness
        known.condition = self._condition(name, state.condition)
        if state.value is not None and state.taken_on is not None:
            self._catch_up()  # the value from frames is weighed against this one
            if known.taken_on is None or state.taken_on > known.taken_on:
                known.value, known.taken_on = state.value, state.taken_on
        if before is not None and known.state != was and known not in changes.described:
            changes.restated.append(known)

    def liveness(self, sensor: str, liveness: Liveness, changes: Changes) -> None:
        known = self._sensors.get(sensor)
        if known is not None and known.liveness is not liveness:
            known.liveness = liveness
            changes.restated.append(known)

    def alarm(self, alarm: Alarm, changes: Changes) -> None:
        closed = self.closed.get(alarm.id)
        if closed is not None:
            hold = closed.hold
            closed.absorb(alarm)  # a late copy: it cannot open the alarm again
            if closed.open:  # nor can an older hold it carries
                closed.hold = hold
            return
        known = self.alarms.get(alarm.id)
        if known is None:
            if not alarm.open:  # closed before we heard of it
                self._close(msgspec.structs.replace(alarm))
                changes.alarms.append(alarm)
                self._restate(alarm.sensor, changes)
                return
            # A copy: the sender may go on changing its own (the coordinator's alarm monitor
            # does), and a change must be seen by comparing the two.
            known = self.alarms[alarm.id] = msgspec.structs.replace(alarm)
            self._alarms_of.setdefault(alarm.sensor, {})[alarm.id] = known
        elif not known.absorb(alarm):
            return
        changes.alarms.append(known)
        if not known.open:
            self._forget(known)
            self._close(known)
        self._restate(known.sensor, changes)

    def hold(self, hold: Hold, changes: Changes) -> None:
        """A point's hold: kept if newer, and given to the point's open alarms."""
        if not hold.newer_than(self.holds.get(hold.point)):
            return
        self.holds[hold.point] = hold
        changes.holds.append(hold)
        for alarm in list(self._alarms_of.get(hold.sensor, {}).values()):
            if alarm.point != hold.point or not hold.newer_than(alarm.hold):
                continue
            if hold.kind is not None or alarm.hold is not None:  # a release ends a hold it had
                alarm.hold = hold
                changes.alarms.append(alarm)
                if not alarm.open:
                    self._forget(alarm)
                    self._close(alarm)

    def warning(self, warning: TwinWarning, changes: Changes) -> None:
        """Two runs of one sensor overlap: remembered by sensor (a repeat changes nothing)."""
        if self.warnings.get(warning.sensor) == warning:
            return
        self.warnings.pop(warning.sensor, None)
        self.warnings[warning.sensor] = warning
        if len(self.warnings) > WARNINGS_KEPT:
            del self.warnings[next(iter(self.warnings))]
        changes.warnings.append(warning)

    def snapshot(self, snapshot: Snapshot, changes: Changes) -> None:
        listed = {alarm.id for alarm in snapshot.alarms}
        for alarm in [alarm for key, alarm in self.alarms.items() if key not in listed]:
            self._forget(alarm)
            changes.ended.append(alarm)
            self._restate(alarm.sensor, changes)
        for alarm in snapshot.alarms:
            self.alarm(alarm, changes)
        for state in snapshot.sources:
            self.state(state, changes)
        for hold in snapshot.holds:
            self.hold(hold, changes)

    # --- the rules -------------------------------------------------------------------------

    def _condition(self, sensor: str, said: Condition) -> Condition:
        """The newest active alarm's kind; with none known, what the coordinator said."""
        active = [
            alarm
            for alarm in self._alarms_of.get(sensor, {}).values()
            if alarm.active and alarm.kind is not Condition.NORMAL  # silence is not a condition
        ]
        if not active:
            return said
        return max(active, key=lambda alarm: alarm.raised_at).kind

    def _restate(self, sensor: str, changes: Changes) -> None:
        """An alarm of `sensor` changed: its condition follows its alarms."""
        known = self._sensors.get(sensor)
        if known is None:
            return
        condition = self._condition(sensor, Condition.NORMAL)
        if condition is not known.condition:
            known.condition = condition
            if known not in changes.restated:
                changes.restated.append(known)

    def _forget(self, alarm: Alarm) -> None:
        self.alarms.pop(alarm.id, None)
        of_sensor = self._alarms_of.get(alarm.sensor)
        if of_sensor is not None:
            of_sensor.pop(alarm.id, None)
            if not of_sensor:
                del self._alarms_of[alarm.sensor]

    def _close(self, alarm: Alarm) -> None:
        self.closed[alarm.id] = alarm
        if len(self.closed) > CLOSED_KEPT:
            del self.closed[next(iter(self.closed))]

    def _read(self, frame: Frame) -> None:
        """A frame's values, by sensor (C loops; a later reading of a name wins)."""
        self._latest.update(
            zip(frame.names, zip(frame.values, frame.taken_on, strict=True), strict=True)
        )

    def _catch_up(self) -> None:
        """Move the values of frames heard so far into the sensors' states."""
        if self._unread:
            for frame in self._unread.values():
                self._read(frame)
            self._unread.clear()
        if self._latest:
            sensors = self._sensors
            for name, (value, taken_on) in self._latest.items():
                known = sensors.get(name)
                if known is not None:  # the latest heard wins: a source's readings come in order
                    known.value = value
                    known.taken_on = taken_on
            self._latest.clear()
