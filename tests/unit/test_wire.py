"""The wire format: round trips, layouts owned by a decoder, and every kind of bad input refused
with a one-line reason."""

import contextlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.clock import now_us
from controlroom.errors import InvalidMessage
from controlroom.plant.alarms import Alarm
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.records import RunReport
from controlroom.plant.sensors import Condition, SensorInfo, SensorState
from controlroom.wire.codec import Decoder, Message, encode
from controlroom.wire.envelopes import (
    AckRequest,
    AlarmEvent,
    Announce,
    Goodbye,
    PersistBatch,
    Snapshot,
    SourceState,
    Stop,
)
from controlroom.wire.fields import check_sensor_name

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


def decode(body: bytes) -> object:
    return Decoder().decode(body)


def test_frame_round_trip_and_int_values_become_floats() -> None:
    decoded = decode(orjson.dumps(frame()))
    assert isinstance(decoded, Frame)
    assert decoded.values == [1.5, 2.0]
    assert all(type(v) is float for v in decoded.values)
    assert decode(encode(decoded)) == decoded


def test_a_shared_column_travels_as_one_number() -> None:
    body = encode(Frame("gw", "r", ["a", "b"], [7, 7], [NOW, NOW], [1.0, 2.0]))
    assert b'"seqs":7' in body and f'"taken_on":{NOW}'.encode() in body
    decoded = decode(body)
    assert isinstance(decoded, Frame) and decoded.seqs == [7, 7] and decoded.taken_on == [NOW] * 2


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"names": ["a"]}, "differ in length"),
        ({"seqs": [1]}, "differ in length"),
        ({"seqs": [0, 1]}, ">= 1"),
        ({"seqs": [1.0, 1]}, "Expected `int"),
        ({"taken_on": [NOW, 1]}, ">= 946684800000000"),
        ({"taken_on": [NOW, NOW + 3600 * 1_000_000]}, "between 2000 and now"),
        ({"values": [1.0, "2"]}, "Expected `float`, got `str`"),
        ({"values": [1.0, True]}, "Expected `float`, got `bool`"),
        ({"values": None}, "Expected `array`, got `null`"),
        ({"names": ["", "b"]}, "empty"),
        ({"names": ["a\x00", "b"]}, "control characters"),
        ({"names": ["x" * 65, "b"]}, "longer than 64"),
        ({"run": ""}, "length >= 1"),
        ({"source": 5}, "Expected `str`"),
    ],
)
def test_bad_frames(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason) as refused:
        decode(orjson.dumps(frame(**overrides)))
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "bogus"}', "unknown message type 'bogus'"),
        (b'{"no": "type"}', "unknown message type"),
        (b'{"type": "frame", "values": [NaN]}', "not JSON"),
        (orjson.dumps(frame()).replace(b"[1.5,2]", b"[1e999,2]"), "out of range"),
    ],
)
def test_undecodable(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        decode(body)


def test_a_decoder_hands_a_source_the_same_layout_tick_after_tick() -> None:
    decoder = Decoder()
    first = decoder.decode(orjson.dumps(frame()))
    again = decoder.decode(orjson.dumps(frame(seqs=2)))
    merged = decoder.decode(
        orjson.dumps(frame(names=["a", "b", "a", "b"], seqs=[3, 3, 4, 4], taken_on=NOW,
                           values=[1, 2, 3, 4]))
    )  # fmt: skip
    assert isinstance(first, Frame) and isinstance(again, Frame) and isinstance(merged, Frame)
    assert again.layout is first.layout
    assert merged.layout.tick is first.layout and merged.ticks_of(first.layout) == 2
    other = decoder.decode(orjson.dumps(frame(names=["b", "a"])))
    assert isinstance(other, Frame) and other.layout is not first.layout


def test_layouts_belong_to_their_decoder_not_the_process() -> None:
    body = orjson.dumps(frame())
    one, two = Decoder().decode(body), Decoder().decode(body)
    assert isinstance(one, Frame) and isinstance(two, Frame)
    assert one.layout == two.layout and one.layout is not two.layout


def test_a_frame_passed_on_unchanged_is_sent_as_the_bytes_it_came_in() -> None:
    body = orjson.dumps(frame())
    decoded = decode(body)
    assert isinstance(decoded, Frame) and encode(decoded) is body
    batch = PersistBatch(frames=[decoded, decoded.subset([1])])
    stored = decode(encode(batch))
    assert isinstance(stored, PersistBatch)
    assert stored.frames == [decoded, decoded.subset([1])]


def test_merge_keeps_order_and_recognises_one_layout() -> None:
    layout = Layout(["a", "b"])
    first = Frame("gw", "r", layout, [1, 1], [NOW, NOW], [1.0, 2.0])
    second = Frame("gw", "r", layout, [2, 2], [NOW + 1, NOW + 1], [3.0, 4.0])
    merged = Frame.merge([first, second])
    assert merged.seqs == [1, 1, 2, 2]
    assert merged.values == [1.0, 2.0, 3.0, 4.0]
    assert merged.ticks_of(layout) == 2 and merged.names == ["a", "b", "a", "b"]
    assert len(first) == 2  # the originals are untouched
    mixed = Frame.merge([first, Frame("gw", "r", ["c"], [1], [NOW], [5.0])])
    assert mixed.ticks_of(layout) == 0 and mixed.names == ["a", "b", "c"]


def test_names_are_data_not_markup() -> None:
    for name in ["<img src=x onerror=alert(1)>", "'; DROP TABLE sensor; --", "température ☃"]:
        assert check_sensor_name(name) == name


def test_name_byte_limit() -> None:
    with pytest.raises(InvalidMessage, match="bytes"):
        check_sensor_name("☃" * 61)


def test_round_trips() -> None:
    info = SensorInfo("boiler", "MPR-1", "MPa", 1.0, 2.0, 0.5)
    alarm = Alarm("a1", "boiler", Condition.HIGH, NOW, 2.5, 2.0, 2.7)
    messages: list[Message] = [
        Announce("gw", "r1", [info]),
        Goodbye("gw", "r1", {"boiler": 10}, {"boiler": 2}),
        Stop("boiler", "ann"),
        AckRequest("a1", "ann", NOW),
        AlarmEvent(alarm),
        SourceState(info, value=1.5, taken_on=NOW),
        Snapshot([SensorState(info, value=1.5, taken_on=NOW)], [alarm]),
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
        Decoder().decode_as(encode(Stop("a")), PersistBatch)


def test_alarm_copies_merge_to_one_state_in_any_order() -> None:
    raised = Alarm("a1", "s", Condition.HIGH, NOW, 9.0, 8.0, 9.0)
    cleared = Alarm("a1", "s", Condition.HIGH, NOW, 9.0, 8.0, 9.7, cleared_at=NOW + 5)
    acked = Alarm("a1", "s", Condition.HIGH, NOW, 9.0, 8.0, 9.2, acked_at=NOW + 3, acked_by="ann")
    results = []
    for order in ([raised, cleared, acked], [acked, raised, cleared], [cleared, acked, raised]):
        merged = Alarm("a1", "s", Condition.HIGH, NOW, 9.0, 8.0, 9.0)
        for copy in order:
            merged.absorb(copy)
        results.append(merged)
    assert all(result == results[0] for result in results)
    assert results[0].peak == 9.7 and results[0].acked_by == "ann" and not results[0].open


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_anything_but_invalid(body: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        decode(body)
