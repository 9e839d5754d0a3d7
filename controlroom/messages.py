"""The message schema: every message that crosses the broker, its JSON form and its validation.

One home for what processes say to each other. Readings travel as *frames*: one message per tick
per source, with the readings in columns (names, seqs, times, values), because one AMQP message per
reading cannot go fast in Python. A lone sensor sends frames of one reading. A column that every
reading of a frame shares is sent as that one number (see `Frame`).

Times are integer microseconds since the Unix epoch, UTC. `decode` turns bytes into one of the
classes below or raises `InvalidMessage` with a one-line reason; nothing else escapes it.
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias, TypeVar

import orjson

CONTENT_TYPE = "application/json"
MAX_NAME_LENGTH = 64
# Queue names and routing keys are at most 255 bytes; a name must leave room for the prefixes.
MAX_NAME_BYTES = 180
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Readings older than this or further ahead than the allowed clock skew are refused: they come
# from a broken clock, and would poison history queries and down-sampling.
EARLIEST_TAKEN_ON_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z
MAX_CLOCK_SKEW_US = 5 * 60 * 1_000_000


class InvalidMessage(ValueError):
    """A message that cannot be used; the text says why in one line."""


class Liveness(StrEnum):
    LIVE = "LIVE"
    STALE = "STALE"
    OFFLINE = "OFFLINE"


class Condition(StrEnum):
    """Where the value stands against the safe range."""

    NORMAL = "NORMAL"
    HIGH = "HIGH"
    LOW = "LOW"


def display_state(liveness: Liveness, condition: Condition) -> str:
    """The one word an operator sees: silence outranks the value's condition."""
    return liveness.value if liveness is not Liveness.LIVE else condition.value


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def datetime_to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def check_sensor_name(name: object) -> str:
    """A sensor name is any printable text of 1-64 characters; it is data, never markup."""
    if not isinstance(name, str):
        raise InvalidMessage(f"sensor name must be text, not {type(name).__name__}")
    if not name or not name.strip():
        raise InvalidMessage("sensor name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidMessage(f"sensor name is longer than {MAX_NAME_LENGTH} characters")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidMessage(f"sensor name is longer than {MAX_NAME_BYTES} bytes of UTF-8")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in name):
        raise InvalidMessage(f"sensor name {name!r} contains control characters")
    return name


# --- sensors and their runs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """What a sensor announces about itself."""

    name: str
    serial_no: str = ""
    unit: str = ""
    safe_min: float | None = None
    safe_max: float | None = None
    period_s: float = 1.0

    @classmethod
    def from_json(cls, data: Any) -> SensorInfo:
        obj = _object(data, "sensor")
        safe_min = _optional_number(obj.get("safe_min"), "safe_min")
        safe_max = _optional_number(obj.get("safe_max"), "safe_max")
        if safe_min is not None and safe_max is not None and safe_min > safe_max:
            raise InvalidMessage("safe_min is above safe_max")
        period = _number(obj.get("period_s", 1.0), "period_s")
        if period <= 0:
            raise InvalidMessage("period_s must be positive")
        return cls(
            name=check_sensor_name(obj.get("name")),
            serial_no=_text(obj.get("serial_no", ""), "serial_no"),
            unit=_text(obj.get("unit", ""), "unit"),
            safe_min=safe_min,
            safe_max=safe_max,
            period_s=period,
        )


@dataclass(slots=True)
class Frame:
    """Readings taken by one source in one tick (or merged ticks), in columns.

    `run` identifies one run of the source process; `seqs` count each sensor's readings within
    that run from 1, so the audit can find gaps and duplicates.

    On the wire, a column whose readings all share one value (the seq and the time of a tick
    of sensors that tick together) is that one integer instead of a list: it halves a frame.
    In memory every column is a list. A source's frames repeat the same names tick after tick,
    so a decoded frame whose names equal the previous frame's of that source reuses that very
    list (checked once, and `is` tells a handler it has seen this layout before).
    """

    TYPE: ClassVar[str] = "frame"
    source: str
    run: str
    names: list[str]
    seqs: list[int]
    taken_on: list[int]
    values: list[float]

    def __len__(self) -> int:
        return len(self.names)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "source": self.source,
            "run": self.run,
            "names": self.names,
            "seqs": _shared_or_column(self.seqs),
            "taken_on": _shared_or_column(self.taken_on),
            "values": self.values,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Frame:
        names = obj.get("names")
        values = obj.get("values")
        if type(names) is not list or type(values) is not list:
            raise InvalidMessage("frame needs the lists names and values")
        count = len(names)
        if len(values) != count:
            raise InvalidMessage("frame columns differ in length")
        source = check_sensor_name(obj.get("source"))
        seqs = _int_column(obj.get("seqs"), count, 1, None, "frame seqs must be positive integers")
        taken_on = _int_column(
            obj.get("taken_on"),
            count,
            EARLIEST_TAKEN_ON_US,
            now_us() + MAX_CLOCK_SKEW_US,
            "frame taken_on must be microseconds between 2000 and now",
        )
        # Column checks as C loops (set of types, min, max): a frame carries thousands.
        value_types = set(map(type, values))
        if not value_types <= _NUMBER:
            raise InvalidMessage("frame values must be numbers")
        return cls(
            source=source,
            run=_run_id(obj.get("run")),
            names=_layouts.checked(source, names),
            seqs=seqs,
            taken_on=taken_on,
            values=[float(v) for v in values] if int in value_types else values,
        )

    def repeats(self, layout: list[str]) -> int:
        """How many ticks of `layout` (names seen before) this frame holds, or 0: its names
        are `layout` that many times over, in order (a merged backlog). The common case, the
        very same list again, costs nothing."""
        return _ticks_of(self.names, layout)

    def subset(self, indexes: list[int]) -> Frame:
        """The readings at `indexes`, in that order (what a filter keeps of a frame)."""
        return Frame(
            self.source,
            self.run,
            [self.names[i] for i in indexes],
            [self.seqs[i] for i in indexes],
            [self.taken_on[i] for i in indexes],
            [self.values[i] for i in indexes],
        )

    @classmethod
    def merge(cls, frames: list[Frame]) -> Frame:
        """Frames of one source run joined in order, so a backlog travels as one message."""
        first = frames[0]
        merged = cls(first.source, first.run, [], [], [], [])
        for frame in frames:
            merged.names += frame.names
            merged.seqs += frame.seqs
            merged.taken_on += frame.taken_on
            merged.values += frame.values
        return merged


_INT = {int}
_NUMBER = {int, float}


def shared_value(column: list[int]) -> int | None:
    """The one value every reading of a column shares (sensors that tick together share their
    seq and time), or None. An identity check per element: nearly free."""
    if column and column.count(column[0]) == len(column):
        return column[0]
    return None


def _shared_or_column(column: list[int]) -> list[int] | int:
    """One integer for a column whose readings all share it, else the column."""
    shared = shared_value(column)
    return column if shared is None else shared


def _int_column(value: Any, count: int, low: int, high: int | None, error: str) -> list[int]:
    """A column of integers in [low, high], sent as a list or as the one value all share."""
    if type(value) is int:
        if value < low or (high is not None and value > high):
            raise InvalidMessage(error)
        return [value] * count
    if type(value) is not list:
        raise InvalidMessage(error)
    if len(value) != count:
        raise InvalidMessage("frame columns differ in length")
    if value and (set(map(type, value)) != _INT or min(value) < low):
        raise InvalidMessage(error)
    if value and high is not None and max(value) > high:
        raise InvalidMessage(error)
    return value


def _ticks_of(names: list[str], layout: list[str]) -> int:
    if names is layout:
        return 1
    width = len(layout)
    if not width or len(names) % width:
        return 0
    for start in range(0, len(names), width):
        if names[start : start + width] != layout:
            return 0
    return len(names) // width


class _Layouts:
    """The names of each source's latest frame, checked once.

    A frame whose names equal its source's previous ones gets that same list back: no name is
    checked again, and its strings already carry their hashes for every dictionary downstream.
    A merged backlog (the same names several times over) is recognised too.
    """

    LIMIT = 10_000

    def __init__(self) -> None:
        self._by_source: dict[str, list[str]] = {}
        self._known_names: set[str] = set()

    def checked(self, source: str, names: list[str]) -> list[str]:
        known = self._by_source.get(source)
        if known is not None:
            if names == known:
                return known
            ticks = _ticks_of(names, known)
            if ticks:
                return known * ticks
        for name in names:
            if name not in self._known_names:
                self._remember(name)
        if len(self._by_source) >= self.LIMIT:
            self._by_source.clear()
        self._by_source[source] = names
        return names

    def _remember(self, name: object) -> None:
        checked = check_sensor_name(name)
        if len(self._known_names) >= 10 * self.LIMIT:
            self._known_names.clear()
        self._known_names.add(checked)


_layouts = _Layouts()


# --- sensor <-> coordinator ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Announce:
    """A source says which sensors it carries (on start and when asked)."""

    TYPE: ClassVar[str] = "announce"
    source: str
    run: str
    sensors: list[SensorInfo]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "source": self.source,
            "run": self.run,
            "sensors": [asdict(s) for s in self.sensors],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Announce:
        sensors = obj.get("sensors")
        if type(sensors) is not list or not sensors:
            raise InvalidMessage("announce needs a non-empty list of sensors")
        return cls(
            source=check_sensor_name(obj.get("source")),
            run=_run_id(obj.get("run")),
            sensors=[SensorInfo.from_json(s) for s in sensors],
        )


@dataclass(frozen=True, slots=True)
class Goodbye:
    """Sensors leave: the last seq each had confirmed, and how many readings it had to drop."""

    TYPE: ClassVar[str] = "goodbye"
    source: str
    run: str
    last_seq: dict[str, int]
    dropped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "source": self.source,
            "run": self.run,
            "last_seq": self.last_seq,
            "dropped": self.dropped,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Goodbye:
        return cls(
            source=check_sensor_name(obj.get("source")),
            run=_run_id(obj.get("run")),
            last_seq=_counts(obj.get("last_seq"), "last_seq"),
            dropped=_counts(obj.get("dropped", {}), "dropped"),
        )


@dataclass(frozen=True, slots=True)
class Discover:
    """The coordinator asks every source to announce itself."""

    TYPE: ClassVar[str] = "discover"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Discover:
        return cls()


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop one sensor, wherever it runs (sent on the control exchange, keyed by its name)."""

    TYPE: ClassVar[str] = "stop"
    sensor: str
    by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "sensor": self.sensor, "by": self.by}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Stop:
        return cls(sensor=check_sensor_name(obj.get("sensor")), by=_text(obj.get("by", ""), "by"))


# --- alarms ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Alarm:
    """A safe-range violation: raised, perhaps cleared, perhaps acknowledged.

    The full state travels every time, so storing it is an order-independent upsert.
    """

    id: str
    sensor: str
    kind: Condition
    raised_at: int
    value: float
    limit: float
    peak: float
    cleared_at: int | None = None
    acked_at: int | None = None
    acked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: Any) -> Alarm:
        obj = _object(data, "alarm")
        kind = obj.get("kind")
        if kind not in (Condition.HIGH, Condition.LOW):
            raise InvalidMessage("alarm kind must be HIGH or LOW")
        return cls(
            id=_run_id(obj.get("id")),
            sensor=check_sensor_name(obj.get("sensor")),
            kind=Condition(kind),
            raised_at=_time(obj.get("raised_at"), "raised_at"),
            value=_number(obj.get("value"), "value"),
            limit=_number(obj.get("limit"), "limit"),
            peak=_number(obj.get("peak"), "peak"),
            cleared_at=_optional_time(obj.get("cleared_at"), "cleared_at"),
            acked_at=_optional_time(obj.get("acked_at"), "acked_at"),
            acked_by=_optional_text(obj.get("acked_by"), "acked_by"),
        )


# --- viewers <-> coordinator -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """A viewer asks for every known source and active alarm; the answer goes to reply_to."""

    TYPE: ClassVar[str] = "snapshot_request"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SnapshotRequest:
        return cls()


@dataclass(frozen=True, slots=True)
class AckRequest:
    """An operator acknowledges an alarm."""

    TYPE: ClassVar[str] = "ack_request"
    alarm_id: str
    by: str
    at: int

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "alarm_id": self.alarm_id, "by": self.by, "at": self.at}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AckRequest:
        by = _text(obj.get("by"), "by")
        if not by:
            raise InvalidMessage("ack_request needs the operator's name in 'by'")
        return cls(
            alarm_id=_run_id(obj.get("alarm_id")),
            by=by[:MAX_NAME_LENGTH],
            at=_time(obj.get("at"), "at"),
        )


@dataclass(slots=True)
class SourceState:
    """A sensor as viewers see it: what it announced, how it is, and its last value."""

    TYPE: ClassVar[str] = "source"
    sensor: SensorInfo
    liveness: Liveness = Liveness.LIVE
    condition: Condition = Condition.NORMAL
    value: float | None = None
    taken_on: int | None = None

    @property
    def state(self) -> str:
        return display_state(self.liveness, self.condition)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "sensor": asdict(self.sensor),
            "liveness": self.liveness.value,
            "condition": self.condition.value,
            "state": self.state,
            "value": self.value,
            "taken_on": self.taken_on,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SourceState:
        liveness = obj.get("liveness", "LIVE")
        condition = obj.get("condition", "NORMAL")
        if liveness not in Liveness.__members__ or condition not in Condition.__members__:
            raise InvalidMessage("source has an unknown liveness or condition")
        value = obj.get("value")
        return cls(
            sensor=SensorInfo.from_json(obj.get("sensor")),
            liveness=Liveness(liveness),
            condition=Condition(condition),
            value=None if value is None else _number(value, "value"),
            taken_on=_optional_time(obj.get("taken_on"), "taken_on"),
        )


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A sensor's liveness changed (LIVE, STALE, OFFLINE)."""

    TYPE: ClassVar[str] = "status"
    sensor: str
    liveness: Liveness
    at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "sensor": self.sensor,
            "liveness": self.liveness.value,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> StatusChange:
        liveness = obj.get("liveness")
        if not isinstance(liveness, str) or liveness not in Liveness.__members__:
            raise InvalidMessage("status has an unknown liveness")
        return cls(
            sensor=check_sensor_name(obj.get("sensor")),
            liveness=Liveness(liveness),
            at=_time(obj.get("at"), "at"),
        )


@dataclass(frozen=True, slots=True)
class SourceStates:
    """Several sensors' states at once: a gateway announces thousands together, and one
    message for all of them costs a viewer (and the coordinator) what one costs."""

    TYPE: ClassVar[str] = "sources"
    sources: list[SourceState]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "sources": [s.to_json() for s in self.sources]}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SourceStates:
        return cls([SourceState.from_json(_object(s, "source")) for s in _list(obj, "sources")])


@dataclass(frozen=True, slots=True)
class StatusChanges:
    """Several sensors' liveness changed at once (a gateway went silent, or left)."""

    TYPE: ClassVar[str] = "statuses"
    changes: list[StatusChange]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "changes": [c.to_json() for c in self.changes]}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> StatusChanges:
        return cls([StatusChange.from_json(_object(c, "status")) for c in _list(obj, "changes")])


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """An alarm was raised, cleared or acknowledged; `alarm` is its whole new state."""

    TYPE: ClassVar[str] = "alarm"
    alarm: Alarm

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "alarm": self.alarm.to_json()}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AlarmEvent:
        return cls(alarm=Alarm.from_json(obj.get("alarm")))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The answer to a SnapshotRequest."""

    TYPE: ClassVar[str] = "snapshot"
    sources: list[SourceState]
    alarms: list[Alarm]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "sources": [s.to_json() for s in self.sources],
            "alarms": [a.to_json() for a in self.alarms],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Snapshot:
        sources = obj.get("sources")
        alarms = obj.get("alarms")
        if type(sources) is not list or type(alarms) is not list:
            raise InvalidMessage("snapshot needs lists of sources and alarms")
        return cls(
            sources=[SourceState.from_json(_object(s, "source")) for s in sources],
            alarms=[Alarm.from_json(a) for a in alarms],
        )


# --- coordinator -> datamanager --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunReport:
    """How far one sensor's run got: the audit's measure of what a sensor had confirmed."""

    sensor: str
    source: str
    run: str
    last_seq: int
    dropped: int
    ended_at: int


@dataclass(frozen=True, slots=True)
class Action:
    """An operator's action, for the action log."""

    at: int
    operator: str
    action: str
    sensor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PersistBatch:
    """Everything the datamanager stores, gathered so one message is one transaction."""

    TYPE: ClassVar[str] = "persist"
    frames: list[Frame] = field(default_factory=list)
    sensors: list[SensorInfo] = field(default_factory=list)
    runs: list[RunReport] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.frames or self.sensors or self.runs or self.alarms or self.actions)

    @property
    def reading_count(self) -> int:
        return sum(len(frame) for frame in self.frames)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "frames": [f.to_json() for f in self.frames],
            "sensors": [asdict(s) for s in self.sensors],
            "runs": [asdict(r) for r in self.runs],
            "alarms": [a.to_json() for a in self.alarms],
            "actions": [asdict(a) for a in self.actions],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PersistBatch:
        return cls(
            frames=[Frame.from_json(_object(f, "frame")) for f in _list(obj, "frames")],
            sensors=[SensorInfo.from_json(s) for s in _list(obj, "sensors")],
            runs=[_run_report(r) for r in _list(obj, "runs")],
            alarms=[Alarm.from_json(a) for a in _list(obj, "alarms")],
            actions=[_action(a) for a in _list(obj, "actions")],
        )


Message: TypeAlias = (
    Frame
    | Announce
    | Goodbye
    | Discover
    | Stop
    | SnapshotRequest
    | AckRequest
    | SourceState
    | StatusChange
    | SourceStates
    | StatusChanges
    | AlarmEvent
    | Snapshot
    | PersistBatch
)

_TYPES: dict[str, Any] = {
    cls.TYPE: cls
    for cls in (
        Frame,
        Announce,
        Goodbye,
        Discover,
        Stop,
        SnapshotRequest,
        AckRequest,
        SourceState,
        StatusChange,
        SourceStates,
        StatusChanges,
        AlarmEvent,
        Snapshot,
        PersistBatch,
    )
}


def encode(message: Message) -> bytes:
    return orjson.dumps(message.to_json())


def decode(body: bytes) -> Message:
    """Bytes from the broker to a validated message, or InvalidMessage with a one-line reason."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message of {len(body)} bytes exceeds the {MAX_MESSAGE_BYTES} limit")
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidMessage(f"not JSON: {error}") from None
    if type(obj) is not dict:
        raise InvalidMessage("message is not a JSON object")
    kind = obj.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidMessage(f"unknown message type {str(kind)[:40]!r}")
    try:
        message: Message = cls.from_json(obj)
    except InvalidMessage:
        raise
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise InvalidMessage(f"malformed {kind}: {error}") from None
    return message


T = TypeVar("T")


def decode_as(body: bytes, expected: type[T]) -> T:
    """Decode and insist on one type: a queue carries one kind of message."""
    message = decode(body)
    if not isinstance(message, expected):
        raise InvalidMessage(f"expected {expected.__name__}, got {type(message).__name__}")
    return message


# --- field helpers ---------------------------------------------------------------------------


def _object(data: Any, what: str) -> dict[str, Any]:
    if type(data) is not dict:
        raise InvalidMessage(f"{what} must be a JSON object")
    return data


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key, [])
    if type(value) is not list:
        raise InvalidMessage(f"{key} must be a list")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidMessage(f"{what} must be text")
    if len(value) > 256:
        raise InvalidMessage(f"{what} is longer than 256 characters")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _number(value: Any, what: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise InvalidMessage(f"{what} must be a finite number")
    return float(value)


def _optional_number(value: Any, what: str) -> float | None:
    return None if value is None else _number(value, what)


def _time(value: Any, what: str) -> int:
    if type(value) is not int or not (
        EARLIEST_TAKEN_ON_US <= value <= now_us() + MAX_CLOCK_SKEW_US
    ):
        raise InvalidMessage(f"{what} must be microseconds between 2000 and now")
    return value


def _optional_time(value: Any, what: str) -> int | None:
    return None if value is None else _time(value, what)


def _run_id(value: Any) -> str:
    if not isinstance(value, str) or not (1 <= len(value) <= 64) or not value.isprintable():
        raise InvalidMessage("run/alarm id must be 1-64 printable characters")
    return value


def _counts(value: Any, what: str) -> dict[str, int]:
    obj = _object(value, what)
    for name, count in obj.items():
        check_sensor_name(name)
        if type(count) is not int or count < 0:
            raise InvalidMessage(f"{what} counts must be non-negative integers")
    return obj


def _run_report(data: Any) -> RunReport:
    obj = _object(data, "run")
    last_seq = obj.get("last_seq")
    dropped = obj.get("dropped", 0)
    if type(last_seq) is not int or last_seq < 0 or type(dropped) is not int or dropped < 0:
        raise InvalidMessage("run counts must be non-negative integers")
    return RunReport(
        sensor=check_sensor_name(obj.get("sensor")),
        source=check_sensor_name(obj.get("source")),
        run=_run_id(obj.get("run")),
        last_seq=last_seq,
        dropped=dropped,
        ended_at=_time(obj.get("ended_at"), "ended_at"),
    )


def _action(data: Any) -> Action:
    obj = _object(data, "action")
    sensor = obj.get("sensor")
    detail = obj.get("detail", {})
    return Action(
        at=_time(obj.get("at"), "at"),
        operator=_text(obj.get("operator"), "operator"),
        action=_text(obj.get("action"), "action"),
        sensor=None if sensor is None else check_sensor_name(sensor),
        detail=_object(detail, "detail"),
    )
