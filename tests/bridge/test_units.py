"""The bridge's pure parts: wire format, per-client queues, plant view, access rules, assets."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from controlroom.clock import now_us
from controlroom.errors import ConfigError
from controlroom.plant.alarms import Alarm
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Condition
from controlroom.wire.codec import Message
from controlroom.wire.envelopes import AlarmEvent, Snapshot
from tests.bridge.fakes import sensor_state
from workers.bridge import protocol
from workers.bridge.access import Access, normalize_origin
from workers.bridge.assets import Assets
from workers.bridge.folding import Fold
from workers.bridge.hub import ClientQueue, Hub, QueueOverflow
from workers.bridge.view import PlantView


def test_rfc3339_keeps_microseconds_and_utc() -> None:
    assert protocol.rfc3339(1_764_318_000_123_456) == "2025-11-28T08:20:00.123456Z"


def test_readings_use_the_original_field_names() -> None:
    frame = Frame("gw", "run1", ["a", "b"], [1, 2], [1_764_318_000_000_000] * 2, [1.0, 2.5])
    fold = Fold(frame.layout)
    fold.add(frame)
    datas = fold.messages()
    assert orjson.loads(protocol.reading(datas[1])) == {
        "type": "reading",
        "data": {"Name": "b", "Value": 2.5, "Timestamp": "2025-11-28T08:20:00.000000Z"},
    }
    assert [r["Name"] for r in orjson.loads(protocol.readings(datas))["data"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [(b"{}", 1003), ("nope", 1008), ("[]", 1008), ('{"type": null}', 1008), ("1e999999", 1008)],
)
def test_bad_client_frames_are_rejected_with_a_code(frame: str | bytes, code: int) -> None:
    with pytest.raises(protocol.MessageRejected) as rejected:
        protocol.parse(frame)
    assert rejected.value.code == code


def test_client_frames_parse() -> None:
    assert protocol.parse('{"type":"discover"}') == protocol.Discover()
    assert protocol.parse('{"type":"hello","data":{"batch":true}}') == protocol.Hello(batch=True)
    assert protocol.parse('{"type":"hello","data":{"batch":"yes"}}') == protocol.Hello(batch=False)
    assert protocol.parse('{"type":"' + "x" * 100 + '"}') == protocol.Unknown("x" * 40)


async def test_queue_drops_oldest_readings_but_never_state() -> None:
    queue = ClientQueue(max_readings=3, max_state=10)
    assert queue.put_readings([b"1", b"2"]) == 0
    queue.put_state(("source", "a"), b"source-a")
    assert queue.put_readings([b"3", b"4", b"5"]) == 2
    queue.put_state(("status", "a"), b"stale")
    queue.put_state(("status", "a"), b"live")  # replaces the unsent one
    state, readings = await queue.take(max_readings=2)
    assert state == [b"source-a", b"live"]
    assert readings == [b"3", b"4"]
    assert (await queue.take(max_readings=2)) == ([], [b"5"])
    assert queue.dropped == 2


async def test_a_state_backlog_past_its_bound_ends_the_client() -> None:
    queue = ClientQueue(max_readings=3, max_state=2)
    for i in range(3):
        queue.put_state(("alarm", str(i)), b"x")
    with pytest.raises(QueueOverflow):
        await queue.take(10)


def test_hub_fans_out_to_every_client_independently() -> None:
    hub = Hub(max_readings=2, max_state=10)
    fast, slow, silent = hub.join("fast"), hub.join("slow"), hub.join("silent")
    fast.listening = slow.listening = True  # silent never said discover or hello
    hub.readings([b"1"])
    fast.queue.readings.clear()  # fast drained its queue; slow did not
    hub.readings([b"2", b"3"])
    assert list(fast.queue.readings) == [b"2", b"3"] and fast.queue.dropped == 0
    assert list(slow.queue.readings) == [b"2", b"3"] and slow.queue.dropped == 1
    assert not silent.queue.readings
    hub.leave(slow)
    hub.readings([b"4"])
    assert list(slow.queue.readings) == [b"2", b"3"]


def test_view_announces_a_sensor_once_and_tracks_alarm_state() -> None:
    view = PlantView()

    def keys(message: Message) -> list[tuple[str, str]]:
        return [outgoing.key for outgoing in view.apply(message)[1]]

    assert keys(sensor_state("a")) == [("source", "a")]
    assert keys(sensor_state("a")) == []  # the original client would draw a second chart
    alarm = Alarm("a-1", "a", Condition.LOW, now_us(), 1.0, 10.0, 0.5)
    assert keys(AlarmEvent(alarm)) == [("status", "a"), ("alarm", "a-1")]
    assert view.picture.sensors["a"].state == "LOW"
    # The coordinator's snapshot no longer has the alarm: it ended while we were away.
    _, messages = view.apply(Snapshot([sensor_state("a")], []))
    ended = [orjson.loads(m.payload)["data"] for m in messages if m.key[0] == "alarm"]
    assert ended == [orjson.loads(protocol.alarm(alarm, ended=True))["data"]]
    assert ended[0]["active"] is False and ended[0]["clearedAt"] is None  # no time made up
    assert view.picture.sensors["a"].state == "NORMAL" and view.picture.alarms == {}


def test_origins_are_normalised_and_checked() -> None:
    assert normalize_origin("HTTPS://Example.org:443/") == "https://example.org"
    assert normalize_origin("http://[::1]:3000") == "http://[::1]:3000"
    for bad in ("example.org", "ftp://x", "http://x/path", "http://x:99999"):
        with pytest.raises(ConfigError):
            normalize_origin(bad)
    access = Access("127.0.0.1", ["http://dash.example:8080"])
    assert access.refuse_origin("http://localhost:3000", "localhost:3000") is None
    assert access.refuse_origin("http://dash.example:8080", "localhost:3000") is None
    assert access.refuse_origin(None, "localhost:3000") is None
    assert access.refuse_origin("http://localhost:3001", "localhost:3000") is not None
    assert access.refuse_host("[::1]:3000") is None
    assert access.refuse_host("dash.example:3000") is None
    assert access.refuse_host("attacker.example:3000") is not None
    assert Access("0.0.0.0", []).refuse_host("plant-pc:3000") is None


def test_assets_are_a_fixed_list_and_a_missing_canvasjs_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    assets = Assets(tmp_path)
    page = assets.respond("/", None)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert assets.respond("/", page.headers["ETag"]).status_code == 304
    assert assets.respond("/../../etc/passwd", None).status_code == 404
    missing = assets.respond("/vendor/canvasjs.min.js", None)
    assert missing.status_code == 404 and b"scripts/fetch-canvasjs" in missing.body


async def test_a_client_is_given_each_version_of_a_source_once() -> None:
    """A discover answer and the announcement it crossed carry the same source: the client
    gets it once (the original client draws a chart per source message); a new version of
    the sensor's metadata is given again."""
    queue = ClientQueue(max_readings=10, max_state=10)
    queue.put_state(("source", "boiler"), b"first", version=("boiler", 1.0))
    assert (await queue.take(10))[0] == [b"first"]
    queue.put_state(("source", "boiler"), b"again", version=("boiler", 1.0))
    queue.put_state(("status", "boiler"), b"status")
    assert (await queue.take(10))[0] == [b"status"]
    queue.put_state(("source", "boiler"), b"moved", version=("boiler", 2.0))
    assert (await queue.take(10))[0] == [b"moved"]
