"""Every message that crosses the broker, apart from frames (`frames`): its fields and checks.

Each is a msgspec struct tagged by its `type` field, so one decoder tells them apart and
validates them in C as it parses. `PersistBatch` is the one message that is not its own wire
form: its frames travel as embedded frame messages (`PersistMessage`), decoded by the same
frame codec as every other frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from controlroom.clock import us_to_datetime
from controlroom.errors import InvalidMessage
from controlroom.plant.alarm_limits import AlarmLimit, Level
from controlroom.plant.alarms import Alarm, Hold, HoldKind
from controlroom.plant.readings import Frame
from controlroom.plant.records import Action, RunReport
from controlroom.plant.sensors import Liveness, SensorInfo, SensorState
from controlroom.wire.fields import (
    MAX_NAME_LENGTH,
    Count,
    Ident,
    Micros,
    Text,
    check_id,
    check_sensor_name,
    check_time,
)

# --- sources <-> coordinator -------------------------------------------------------------------


class Announce(msgspec.Struct, frozen=True, tag="announce", tag_field="type"):
    """A source says which sensors it carries (on start and when asked)."""

    source: str
    run: Ident
    sensors: list[SensorInfo]

    def __post_init__(self) -> None:
        check_sensor_name(self.source)
        check_id(self.run, "run id")
        if not self.sensors:
            raise InvalidMessage("announce needs a non-empty list of sensors")


class Goodbye(msgspec.Struct, frozen=True, tag="goodbye", tag_field="type"):
    """Sensors leave: the last seq each had confirmed, and how many readings it had to drop."""

    source: str
    run: Ident
    last_seq: dict[str, Count]
    dropped: dict[str, Count] = {}

    def __post_init__(self) -> None:
        check_sensor_name(self.source)
        check_id(self.run, "run id")
        for name in (*self.last_seq, *self.dropped):
            check_sensor_name(name)


class Discover(msgspec.Struct, frozen=True, tag="discover", tag_field="type"):
    """The coordinator asks every source to announce itself."""


class Stop(msgspec.Struct, frozen=True, tag="stop", tag_field="type"):
    """Stop one sensor, wherever it runs: an operator's action (on the actions exchange, `by`
    a display name), which a coordinator passes on to the sensor's source (on the stops
    exchange, keyed by source, `by` the operator's login as the broker vouched for it)."""

    sensor: str
    by: Text = ""

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)


# --- coordinator <-> coordinator ---------------------------------------------------------------


class Presence(msgspec.Struct, frozen=True, tag="coordinator", tag_field="type"):
    """A coordinator says it is there (every second), or that it leaves: how coordinators
    know each other to share the sources (workers/coordinator/sharing.py)."""

    instance: Ident
    leaving: bool = False

    def __post_init__(self) -> None:
        check_id(self.instance, "coordinator instance")


# --- viewers <-> coordinator -------------------------------------------------------------------


class SnapshotRequest(msgspec.Struct, frozen=True, tag="snapshot_request", tag_field="type"):
    """A viewer asks for every known source and open alarm; the answer goes to reply_to."""


def _check_operator(by: str, what: str) -> None:
    if not by:
        raise InvalidMessage(f"{what} needs the operator's name in 'by'")
    if len(by) > MAX_NAME_LENGTH:
        raise InvalidMessage(f"operator name is longer than {MAX_NAME_LENGTH} characters")


class AckRequest(msgspec.Struct, frozen=True, tag="ack_request", tag_field="type"):
    """An operator acknowledges an alarm, perhaps saying why (`comment`)."""

    alarm_id: Ident
    by: Text
    at: Micros
    comment: Text = ""

    def __post_init__(self) -> None:
        check_id(self.alarm_id, "alarm id")
        _check_operator(self.by, "ack_request")
        check_time(self.at, "at")


class CommentRequest(msgspec.Struct, frozen=True, tag="comment_request", tag_field="type"):
    """An operator writes a comment on an alarm."""

    alarm_id: Ident
    by: Text
    at: Micros
    text: Text

    def __post_init__(self) -> None:
        check_id(self.alarm_id, "alarm id")
        _check_operator(self.by, "comment_request")
        check_time(self.at, "at")
        if not self.text.strip():
            raise InvalidMessage("comment_request needs some text")


class HoldRequest(msgspec.Struct, frozen=True, tag="hold_request", tag_field="type"):
    """An operator shelves an alarm point (until a time, or one-shot), suppresses it, takes it
    out of service, or (`kind` None) releases it; a reason is required to hold."""

    sensor: str
    level: Level
    kind: HoldKind | None
    by: Text
    at: Micros
    reason: Text = ""
    until: Micros | None = None

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        _check_operator(self.by, "hold_request")
        check_time(self.at, "at")
        if self.kind is not None and not self.reason.strip():
            raise InvalidMessage("hold_request needs a reason")
        if self.until is not None and (self.kind is not HoldKind.SHELVED or self.until <= self.at):
            raise InvalidMessage("only a shelving has an end ('until'), after 'at'")

    def hold(self) -> Hold:
        return Hold(self.sensor, self.level, self.kind, self.at, self.by, self.reason, self.until)


class LimitsRequest(msgspec.Struct, frozen=True, tag="limits_request", tag_field="type"):
    """An operator replaces a sensor's alarm definitions (all of them), with a reason."""

    sensor: str
    limits: list[AlarmLimit]
    by: Text
    at: Micros
    reason: Text

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        _check_operator(self.by, "limits_request")
        check_time(self.at, "at")
        if not self.reason.strip():
            raise InvalidMessage("limits_request needs a reason")
        if any(limit.sensor != self.sensor for limit in self.limits):
            raise InvalidMessage("limits_request carries another sensor's limits")


class LimitsChange(msgspec.Struct, frozen=True, tag="limits", tag_field="type"):
    """A sensor's alarm definitions as they now stand (the newest `at` wins): every
    coordinator applies it, the datamanager stores it."""

    sensor: str
    limits: list[AlarmLimit]
    by: Text
    at: Micros
    reason: Text = ""

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        check_time(self.at, "at")


class HoldEvent(msgspec.Struct, frozen=True, tag="hold", tag_field="type"):
    """An alarm point's hold changed (`hold` is its new one)."""

    hold: Hold


class SourceState(SensorState, tag="source", tag_field="type"):
    """One sensor's state changed (it announced, or came back): what viewers should show."""

    @classmethod
    def of(cls, state: SensorState) -> SourceState:
        return cls(state.sensor, state.liveness, state.condition, state.value, state.taken_on)


class SourceStates(msgspec.Struct, frozen=True, tag="sources", tag_field="type"):
    """Several sensors' states at once: a gateway announces thousands together, and one
    message for all of them costs a viewer (and the coordinator) what one costs."""

    sources: list[SensorState]


class StatusChange(msgspec.Struct, frozen=True, tag="status", tag_field="type"):
    """A sensor's liveness changed (LIVE, STALE, OFFLINE)."""

    sensor: str
    liveness: Liveness
    at: Micros

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        check_time(self.at, "at")


class StatusChanges(msgspec.Struct, frozen=True, tag="statuses", tag_field="type"):
    """Several sensors' liveness changed at once (a gateway went silent, or left)."""

    changes: list[StatusChange]


class AlarmEvent(msgspec.Struct, frozen=True, tag="alarm", tag_field="type"):
    """An alarm was raised, cleared or acknowledged; `alarm` is its whole new state."""

    alarm: Alarm


class TwinWarning(msgspec.Struct, frozen=True, tag="warning", tag_field="type"):
    """Two runs of one sensor, from different sources, read at the same time: two processes
    use its name (a lone sensor and a large gateway's sensor, whose names are not claimed one
    by one). Sent once per pair of runs and sensor; `since` is the first time both covered."""

    sensor: str
    sources: list[str]
    runs: list[Ident]
    since: Micros

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        if len(self.sources) != 2 or len(self.runs) != 2:
            raise InvalidMessage("warning needs two sources and two runs")
        for source in self.sources:
            check_sensor_name(source)
        for run in self.runs:
            check_id(run, "run id")
        check_time(self.since, "since")

    def describe(self) -> str:
        """One line for an operator."""
        (first, second), (run_1, run_2) = self.sources, self.runs
        return (
            f"sensor {self.sensor!r} runs twice: from source {first!r} (run {run_1[:8]}) "
            f"and from source {second!r} (run {run_2[:8]}), both reading since {_clock(self.since)}"
        )


def _clock(us: int) -> str:
    return us_to_datetime(us).strftime("%H:%M:%S UTC")


class Snapshot(msgspec.Struct, frozen=True, tag="snapshot", tag_field="type"):
    """The answer to a SnapshotRequest: every known sensor and every open alarm."""

    sources: list[SensorState]
    alarms: list[Alarm]
    holds: list[Hold] = []


# --- coordinator -> datamanager ----------------------------------------------------------------


@dataclass(slots=True)
class PersistBatch:
    """Everything the datamanager stores, gathered so one message is one transaction."""

    frames: list[Frame] = field(default_factory=list)
    sensors: list[SensorInfo] = field(default_factory=list)
    runs: list[RunReport] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    limits: list[LimitsChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.frames
            or self.sensors
            or self.runs
            or self.alarms
            or self.actions
            or self.holds
            or self.limits
        )

    @property
    def reading_count(self) -> int:
        return sum(len(frame) for frame in self.frames)


class PersistMessage(msgspec.Struct, tag="persist", tag_field="type"):
    """A persist batch as it travels: each frame an embedded frame message, kept raw here so
    the frame codec (and its layouts) decodes it like any other."""

    frames: list[msgspec.Raw] = []
    sensors: list[SensorInfo] = []
    runs: list[RunReport] = []
    alarms: list[Alarm] = []
    actions: list[Action] = []
    holds: list[Hold] = []
    limits: list[LimitsChange] = []
