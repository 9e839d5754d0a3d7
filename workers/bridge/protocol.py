"""The browser protocol: controlroom events in, websocket messages out (and client messages in).

The wire format is the original Go web client's, which must keep working unchanged: `source`
and `reading` messages with its field names, one reading per message (folded to a rate a
person can watch, with the extremes of what was folded: see `folding`). Extra types (`status`,
`alarm`, `warning`, `readings`, `hello`, `error`) are ignored by that client. Everything here
is pure and encodes once per event, never once per client: the hub fans the same bytes out to
every client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from controlroom.clock import now_us
from controlroom.errors import ControlroomError
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import SensorState, display_state
from controlroom.wire.envelopes import TwinWarning

# Close codes (RFC 6455): 1003 = data of a type it cannot accept, 1008 = policy violation.
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013


@lru_cache(maxsize=256)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def rfc3339(us: int) -> str:
    """Microseconds UTC as RFC 3339 (what Go's time.Time marshals to); cached per second."""
    seconds, micros = divmod(us, 1_000_000)
    return f"{_second(seconds)}.{micros:06d}Z"


def optional_rfc3339(us: int | None) -> str | None:
    return None if us is None else rfc3339(us)


# --- server -> browser ---------------------------------------------------------------------


def reading_data(
    name: str, value: float, taken_on: int, low: float, high: float, count: int
) -> bytes:
    """The `data` of a reading, encoded once for every client. A reading that folds several
    (see `folding`) adds `Min`, `Max` and `Count`, which the original client ignores; one that
    stands alone is exactly what the original protocol sent."""
    if count == 1:
        return orjson.dumps({"Name": name, "Value": value, "Timestamp": rfc3339(taken_on)})
    return orjson.dumps(
        {
            "Name": name,
            "Value": value,
            "Timestamp": rfc3339(taken_on),
            "Min": low,
            "Max": high,
            "Count": count,
        }
    )


def reading(data: bytes) -> bytes:
    """One reading as the original protocol sends it."""
    return b'{"type":"reading","data":' + data + b"}"


def readings(datas: list[bytes]) -> bytes:
    """Many readings in one message, for clients that asked for batches (see `Hello`)."""
    return b'{"type":"readings","data":[' + b",".join(datas) + b"]}"


def source(state: SensorState) -> bytes:
    """A sensor's metadata with the original field names, plus its current state."""
    sensor = state.sensor
    return _message(
        "source",
        {
            "name": sensor.name,
            "serialNo": sensor.serial_no,
            "unitType": sensor.unit,
            "minSafeValue": sensor.safe_min,
            "maxSafeValue": sensor.safe_max,
            "periodSeconds": sensor.period_s,
            "liveness": state.liveness.value,
            "condition": state.condition.value,
            "state": state.state,
        },
    )


def status(state: SensorState, at: int) -> bytes:
    """A sensor's state changed (liveness or condition)."""
    return _message(
        "status",
        {
            "name": state.sensor.name,
            "liveness": state.liveness.value,
            "condition": state.condition.value,
            "state": display_state(state.liveness, state.condition),
            "at": rfc3339(at),
        },
    )


def alarm(item: Alarm, *, ended: bool = False) -> bytes:
    """An alarm's whole state; `active` is false once it cleared, or once it `ended` unseen
    (a snapshot no longer listed it: over, though we do not know when)."""
    return _message(
        "alarm",
        {
            "id": item.id,
            "name": item.sensor,
            "kind": item.kind.value,
            "active": item.active and not ended,
            "state": (AlarmState.NORMAL if ended else state_of(item, now_us())).value,
            "open": item.open and not ended,
            "level": item.alarm_level.value,
            "priority": item.priority.value,
            "shelvedUntil": optional_rfc3339(
                item.hold.until if item.hold is not None and item.hold.in_force(None) else None
            ),
            "holdReason": item.hold.reason if item.hold and item.hold.kind else None,
            "comments": [
                {"at": rfc3339(comment.at), "by": comment.by, "text": comment.text}
                for comment in item.comments
            ],
            "raisedAt": rfc3339(item.raised_at),
            "clearedAt": optional_rfc3339(item.cleared_at),
            "ackedAt": optional_rfc3339(item.acked_at),
            "ackedBy": item.acked_by,
            "value": item.value,
            "limit": item.limit,
            "peak": item.peak,
        },
    )


def warning(item: TwinWarning) -> bytes:
    """Two runs of one sensor read at the same time (two processes use its name)."""
    return _message(
        "warning",
        {
            "name": item.sensor,
            "kind": "twin_runs",
            "sources": item.sources,
            "runs": item.runs,
            "since": rfc3339(item.since),
            "message": item.describe(),
        },
    )


def broker(connected: bool) -> bytes:
    """Whether the bridge can currently hear the plant."""
    return _message("broker", {"connected": connected})


def hello(plant: str, batch: bool) -> bytes:
    return _message("hello", {"plant": plant, "batch": batch})


def error(text: str) -> bytes:
    return _message("error", {"message": text})


def _message(kind: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": kind, "data": data})


# --- browser -> server ---------------------------------------------------------------------


class MessageRejected(ControlroomError):
    """A client message that ends the connection; `code` is the close code to send."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Discover:
    """Send me every known sensor (the original client sends this once it is connected)."""


@dataclass(frozen=True, slots=True)
class Hello:
    """An extension: `batch` asks for `readings` messages carrying many readings each."""

    batch: bool


@dataclass(frozen=True, slots=True)
class Unknown:
    """A well-formed message of a type this bridge does not know: answered, not fatal."""

    kind: str


ClientMessage = Discover | Hello | Unknown


def parse(text: str | bytes) -> ClientMessage:
    """One client message, or MessageRejected saying why the connection must close."""
    if isinstance(text, bytes):
        raise MessageRejected(CLOSE_UNSUPPORTED_DATA, "binary messages are not supported")
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MessageRejected(CLOSE_POLICY_VIOLATION, "messages must be JSON") from None
    if type(obj) is not dict or not isinstance(obj.get("type"), str):
        raise MessageRejected(CLOSE_POLICY_VIOLATION, "messages must be objects with a string type")
    kind: str = obj["type"]
    if kind == "discover":
        return Discover()
    if kind == "hello":
        data = obj.get("data")
        batch = type(data) is dict and data.get("batch") is True
        return Hello(batch=batch)
    return Unknown(kind[:40])
