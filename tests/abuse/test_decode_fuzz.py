"""A hypothesis fuzz of `Decoder.decode`: whatever the bytes, only InvalidMessage escapes.

Random bytes rarely get past the JSON parser, so most cases here are JSON objects shaped like
real messages (a known type, the right keys) with values drawn from everything JSON can say,
to reach every field validator. A message that decodes must survive a round trip unchanged and
carry only what the schema promises: finite numbers, printable names.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controlroom.clock import now_us
from controlroom.errors import InvalidMessage
from controlroom.plant.readings import Frame
from controlroom.wire.codec import MESSAGE_TYPES, Decoder, encode
from controlroom.wire.envelopes import Announce, PersistBatch
from controlroom.wire.fields import MAX_NAME_LENGTH

FUZZ = settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])

# Values JSON can carry, with the edges that break validators: huge ints, negative zero,
# empty and control-character strings, deep nesting.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "\u202e", "<b>x</b>", "'; DROP TABLE sensor;--", "é" * 70]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)

# Plausible field values, so that most of a message is right and one thing is wrong.
names = st.one_of(st.text(min_size=1, max_size=MAX_NAME_LENGTH + 2), scalars)
times = st.one_of(
    st.integers(min_value=0, max_value=2 * now_us()),
    st.just(now_us()),
    scalars,
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "source": names,
    "sensor": names,
    "run": names,
    "by": names,
    "alarm_id": names,
    "names": st.lists(names, max_size=4) | json_values,
    "seqs": st.lists(st.integers(min_value=-2, max_value=10), max_size=4) | json_values,
    "taken_on": st.lists(times, max_size=4) | json_values,
    "values": st.lists(st.floats(allow_nan=False), max_size=4) | json_values,
    "at": times,
    "sensors": st.lists(
        st.dictionaries(
            st.sampled_from(["name", "unit", "safe_min", "safe_max", "period_s"]), json_values
        ),
        max_size=3,
    )
    | json_values,
    "last_seq": st.dictionaries(names.filter(lambda n: isinstance(n, str)), json_values),
    "frames": st.lists(json_values, max_size=3) | json_values,
    "runs": st.lists(json_values, max_size=2) | json_values,
    "alarms": st.lists(json_values, max_size=2) | json_values,
    "actions": st.lists(json_values, max_size=2) | json_values,
    "liveness": st.sampled_from(["LIVE", "STALE", "OFFLINE", "DEAD"]) | json_values,
}


@st.composite
def shaped_messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([*MESSAGE_TYPES, "unknown", ""]) | json_values)
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=8, unique=True))
    message: dict[str, Any] = {"type": kind}
    for key in keys:
        message[key] = draw(FIELDS[key])
    return message


def dumps(value: object) -> bytes:
    """JSON as any sender might write it: the standard library also writes huge integers."""
    return json.dumps(value, ensure_ascii=False).encode()


def check(body: bytes) -> None:
    try:
        message = Decoder().decode(body)
    except InvalidMessage as error:
        text = str(error)
        assert text and "\n" not in text, "the reason is one line"
        return
    again = Decoder().decode(encode(message))
    assert again == message, "a valid message survives a round trip"
    if isinstance(message, Frame):
        assert all(math.isfinite(v) for v in message.values)
        assert all(isinstance(name, str) and name.isprintable() for name in message.names)
    if isinstance(message, Announce):
        assert all(0 < len(info.name) <= MAX_NAME_LENGTH for info in message.sensors)
    if isinstance(message, PersistBatch):
        for frame in message.frames:
            assert len(frame.names) == len(frame.values) == len(frame.seqs)


@FUZZ
@given(shaped_messages())
def test_shaped_messages(message: dict[str, Any]) -> None:
    check(dumps(message))


@FUZZ
@given(json_values)
def test_any_json(value: object) -> None:
    check(dumps(value))


@FUZZ
@given(shaped_messages(), st.integers(min_value=0, max_value=400), st.binary(max_size=4))
def test_truncated_and_corrupted(message: dict[str, Any], cut: int, noise: bytes) -> None:
    body = dumps(message)
    check(body[:cut])
    check(body[:cut] + noise + body[cut:])


def test_non_finite_numbers_are_not_json() -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        body = b'{"type":"frame","source":"s","run":"r","names":["s"],"seqs":[1],'
        body += b'"taken_on":[%d],"values":[%s]}' % (now_us(), literal)
        try:
            Decoder().decode(body)
        except InvalidMessage:
            continue
        raise AssertionError(f"{literal!r} was accepted as a reading value")
