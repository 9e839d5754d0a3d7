"""Message schema: round trips, and every kind of bad input refused with a one-line reason."""

import contextlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.messages import (
    AckRequest,
    Alarm,
    AlarmEvent,
    Announce,
    Condition,
    Frame,
    Goodbye,
    InvalidMessage,
    PersistBatch,
    RunReport,
    SensorInfo,
    Snapshot,
    SourceState,
    Stop,
    check_sensor_name,
    decode,
    decode_as,
    encode,
    now_us,
)

NOW = now_us()


def frame(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "frame",
        "source": "gw",
        "run": "r1",
        "names": ["a", "b"],
        "seqs": [1, 1],
        "taken_on": [NOW, NOW],
        "values": [1.5, 2],
    }
    body.update(overrides)
    return body


def test_frame_round_trip_and_int_values_become_floats() -> None:
    decoded = decode(orjson.dumps(frame()))
    assert isinstance(decoded, Frame)
    assert decoded.values == [1.5, 2.0]
    assert all(type(v) is float for v in decoded.values)
    assert decode(encode(decoded)) == decoded


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"names": ["a"]}, "differ in length"),
        ({"seqs": [0, 1]}, "positive integers"),
        ({"seqs": [1.0, 1]}, "positive integers"),
        ({"taken_on": [NOW, 1]}, "between 2000 and now"),
        ({"taken_on": [NOW, NOW + 3600 * 1_000_000]}, "between 2000 and now"),
        ({"values": [1.0, "2"]}, "numbers"),
        ({"values": [1.0, True]}, "numbers"),
        ({"values": None}, "needs the lists"),
        ({"names": ["", "b"]}, "empty"),
        ({"names": ["a\x00", "b"]}, "control characters"),
        ({"names": ["x" * 65, "b"]}, "longer than 64"),
        ({"run": ""}, "run"),
        ({"source": 5}, "text"),
    ],
)
def test_bad_frames(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        decode(orjson.dumps(frame(**overrides)))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "bogus"}', "unknown message type"),
        (b'{"no": "type"}', "unknown message type"),
        (b'{"type": "frame", "values": [NaN]}', "not JSON"),
        (b'{"type": "frame", "values": [1e999]}', "not JSON"),
    ],
)
def test_undecodable(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        decode(body)


def test_names_are_data_not_markup() -> None:
    for name in ["<img src=x onerror=alert(1)>", "'; DROP TABLE sensor; --", "température ☃"]:
        assert check_sensor_name(name) == name


def test_name_byte_limit() -> None:
    with pytest.raises(InvalidMessage, match="bytes"):
        check_sensor_name("☃" * 61)


def test_round_trips() -> None:
    info = SensorInfo("boiler", "MPR-1", "MPa", 1.0, 2.0, 0.5)
    alarm = Alarm("a1", "boiler", Condition.HIGH, NOW, 2.5, 2.0, 2.7)
    messages = [
        Announce("gw", "r1", [info]),
        Goodbye("gw", "r1", {"boiler": 10}, {"boiler": 2}),
        Stop("boiler", "ann"),
        AckRequest("a1", "ann", NOW),
        AlarmEvent(alarm),
        Snapshot([SourceState(info, value=1.5, taken_on=NOW)], [alarm]),
        PersistBatch(
            frames=[Frame("gw", "r1", ["boiler"], [1], [NOW], [1.0])],
            sensors=[info],
            runs=[RunReport("boiler", "gw", "r1", 10, 0, NOW)],
            alarms=[alarm],
        ),
    ]
    for message in messages:
        assert decode(encode(message)) == message


def test_announce_validates_its_sensors() -> None:
    bad = {
        "type": "announce",
        "source": "gw",
        "run": "r",
        "sensors": [{"name": "a", "safe_min": 5, "safe_max": 1}],
    }
    with pytest.raises(InvalidMessage, match="safe_min is above safe_max"):
        decode(orjson.dumps(bad))
    with pytest.raises(InvalidMessage, match="non-empty"):
        decode(orjson.dumps({"type": "announce", "source": "gw", "run": "r", "sensors": []}))


def test_decode_as_insists_on_the_type() -> None:
    with pytest.raises(InvalidMessage, match="expected PersistBatch"):
        decode_as(encode(Stop("a")), PersistBatch)


def test_merge_keeps_order() -> None:
    first = Frame("gw", "r", ["a", "b"], [1, 1], [NOW, NOW], [1.0, 2.0])
    second = Frame("gw", "r", ["a", "b"], [2, 2], [NOW + 1, NOW + 1], [3.0, 4.0])
    merged = Frame.merge([first, second])
    assert merged.seqs == [1, 1, 2, 2]
    assert merged.values == [1.0, 2.0, 3.0, 4.0]
    assert len(first) == 2  # the originals are untouched


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_anything_but_invalid(body: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        decode(body)
