"""Bad input at every door of a running plant: each is refused with one log line, nothing is lost.

The doors are every queue and exchange a process consumes: a source's readings queue and the
sensors exchange and requests queue (coordinator), the persist queue (datamanager), discovery
and control (sensors), and alarm events (the coordinator's alarm mirror). A refused message is
dead-lettered where the queue has a dead-letter exchange (all but viewer queues, which hold
only live events). Meanwhile the plant keeps storing readings, and the audit stays clean.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from controlroom.broker.publishing import json_message
from controlroom.broker.topology import Topology, readings_key
from controlroom.clock import now_us
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import SensorInfo
from controlroom.wire.codec import MAX_MESSAGE_BYTES, encode
from controlroom.wire.envelopes import Announce, Discover, Goodbye
from controlroom.wire.fields import EARLIEST_US
from tests.faults.harness import Plant, assert_complete
from tests.support import Worker, until, wait_for

YEAR_US = 365 * 24 * 3600 * 1_000_000


def frame_body(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "type": "frame",
        "source": "s1",
        "run": "intruder",
        "names": ["s1"],
        "seqs": [1],
        "taken_on": [now_us()],
        "values": [1.0],
    }
    fields.update(overrides)
    return encode_raw(fields)


def encode_raw(fields: dict[str, object]) -> bytes:
    return json.dumps(fields).encode()


# Every door gets these: one log line and (where the queue has one) one dead letter each.
COMMON: dict[str, bytes] = {
    "empty": b"",
    "not JSON": b"\x00\xffnot json at all",
    "truncated": frame_body()[:40],
    "not an object": b"[1, 2, 3]",
    "unknown type": b'{"type": "self-destruct", "now": true}',
    "no type": b'{"source": "s1"}',
    "wrongly typed": frame_body(seqs=["one"]),
    "NaN value": frame_body().replace(b"1.0]", b"NaN]"),
    "infinite value": frame_body().replace(b"1.0]", b"1e400]"),
    "far past": frame_body(taken_on=[EARLIEST_US - YEAR_US]),
    "far future": frame_body(taken_on=[now_us() + 80 * YEAR_US]),
    "control characters in a name": frame_body(names=["s1\x00\x1b[2J"]),
    "an empty name": frame_body(names=[""]),
    "a name too long": frame_body(names=["x" * 65]),
    "columns of different lengths": frame_body(seqs=[1, 2]),
}
# Only the heavy doors (readings, persist) get a message beyond the size limit.
OVERSIZED = b'{"type": "frame", "pad": "' + b"x" * (MAX_MESSAGE_BYTES + 1) + b'"}'

# Names that are odd but legal: stored verbatim, never interpreted.
WEIRD_NAMES = [
    "Robert'); DROP TABLE sensor;--",
    "<script>alert('x')</script>",
    "temp &amp; <b>pressure</b>",
    "température ℃",
    "温度センサー",
    "🔥 boiler",
    "\u05d7\u05d9\u05d9\u05e9\u05df RTL",
    "%s %d {0} $1",
]


@dataclass
class Door:
    name: str
    exchange: str  # "" is the default exchange
    routing_key: str
    dead_letters: bool  # the queue behind it has a dead-letter exchange


@pytest.fixture
async def publisher(plant: Plant) -> AsyncIterator[AbstractChannel]:
    connection: AbstractRobustConnection = await aio_pika.connect_robust(plant.settings.amqp_url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


async def publish(channel: AbstractChannel, door: Door, body: bytes) -> None:
    exchange = (
        channel.default_exchange
        if not door.exchange
        else await channel.get_exchange(door.exchange, ensure=False)
    )
    await exchange.publish(json_message(body, persistent=False), routing_key=door.routing_key)


def rejections(worker: Worker) -> int:
    return sum("rejected" in line for line in worker.log_text().splitlines())


def rejected_at_least(worker: Worker, count: int) -> Callable[[], bool]:
    return lambda: rejections(worker) >= count


async def test_bad_input_at_every_door(plant: Plant, publisher: AbstractChannel) -> None:
    topology = plant.topology
    sensor = plant.sensor("s1", freq=20)
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await plant.wait_flowing(40)
    await send_weird_source(publisher, topology)

    doors = {
        "readings": Door("readings", "", topology.readings_queue("s1"), True),
        "frames": Door("frames", topology.frames_exchange, "s1", True),
        "persist": Door("persist", "", topology.persist_queue, True),
        "requests": Door("requests", "", topology.requests_queue, True),
        "sensors": Door("sensors", topology.announcements_exchange, "s1", True),
        "discovery": Door("discovery", topology.discovery_exchange, "", True),
        "control": Door("control", topology.stops_exchange, "s1", True),
        "alarms": Door("alarms", topology.events_exchange, "alarm.HIGH", False),
    }
    # Who reads each door, and so must log each rejection.
    readers = {
        "readings": coordinator,
        "frames": coordinator,
        "persist": datamanager,
        "requests": coordinator,
        "sensors": coordinator,
        "discovery": sensor,
        "control": sensor,
        "alarms": coordinator,
    }
    wrong_kind = {  # well-formed, but not what this door takes
        "readings": encode(Discover()),
        "frames": encode(Discover()),
        "persist": frame_body(),
        "requests": frame_body(),
        "sensors": frame_body(),
        "discovery": frame_body(),
        "control": encode(Announce("s1", "r", [SensorInfo("s1")])),
        "alarms": frame_body(),
    }
    # Well-formed, but naming another source than the key it came under (which the broker
    # holds a source's own login to): the coordinator refuses it.
    forged = {
        "frames": [frame_body(source="other")],
        "sensors": [encode(Announce("other", uuid.uuid4().hex, [SensorInfo("x")]))],
    }
    before = {worker.pid: rejections(worker) for worker in (sensor, coordinator, datamanager)}
    expected = dict.fromkeys(before, 0)
    dead = 0
    for key, door in doors.items():
        bodies = [*COMMON.values(), wrong_kind[key], *forged.get(key, [])]
        if key in ("readings", "persist"):
            bodies.append(OVERSIZED)
        for body in bodies:
            await publish(publisher, door, body)
        expected[readers[key].pid] += len(bodies)
        dead += len(bodies) if door.dead_letters else 0

    for worker in (sensor, coordinator, datamanager):
        want = before[worker.pid] + expected[worker.pid]
        await until(
            rejected_at_least(worker, want),
            f"{worker.args[0]} to log {expected[worker.pid]} rejections",
        )

    async def dead_lettered() -> bool:
        return await plant.queue_depth(topology.dead_queue) >= dead

    try:
        await wait_for(dead_lettered, what=f"{dead} dead letters")
    except AssertionError:
        depth = await plant.queue_depth(topology.dead_queue)
        raise AssertionError(
            f"{depth} of {dead} dead letters\n{await plant.broker_state()}"
        ) from None
    # Exactly one line per rejected input, and exactly one dead letter each.
    for worker in (sensor, coordinator, datamanager):
        assert rejections(worker) == before[worker.pid] + expected[worker.pid], worker.log_text()[
            -3000:
        ]
    assert await plant.queue_depth(topology.dead_queue) == dead
    plant.assert_alive(sensor, coordinator, datamanager)
    await plant.wait_flowing(40)

    await plant.stop_sources(sensor)
    report = await plant.audited(reports=1 + len(WEIRD_NAMES))
    assert_complete(report, sensors=1 + len(WEIRD_NAMES))
    stored = await stored_names(plant)
    assert set(WEIRD_NAMES) <= stored, "odd but legal names are stored verbatim"
    assert await plant.stored_of(WEIRD_NAMES[0]) == 3
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


async def send_weird_source(channel: AbstractChannel, topology: Topology) -> str:
    """A source whose sensors have odd but legal names: announce, three frames, goodbye."""
    source = "weird <gateway>"
    run = uuid.uuid4().hex
    queue = await topology.readings(channel, source)
    announcements = await topology.announcements(channel)
    key = readings_key(source)
    announce = Announce(source, run, [SensorInfo(name) for name in WEIRD_NAMES])
    await announcements.publish(json_message(encode(announce), persistent=False), key)
    start = now_us()
    for seq in (1, 2, 3):
        frame = Frame(
            source,
            run,
            list(WEIRD_NAMES),
            [seq] * len(WEIRD_NAMES),
            [start + seq] * len(WEIRD_NAMES),
            [float(seq)] * len(WEIRD_NAMES),
        )
        await channel.default_exchange.publish(
            json_message(encode(frame), persistent=True), routing_key=queue.name
        )
    goodbye = Goodbye(source, run, dict.fromkeys(WEIRD_NAMES, 3))
    await announcements.publish(json_message(encode(goodbye), persistent=False), key)
    return source


async def stored_names(plant: Plant) -> set[str]:
    connection = await plant.connection()
    rows = await connection.fetch(
        "SELECT DISTINCT s.name FROM sensor s JOIN sensor_reading r ON r.sensor_id = s.id"
    )
    return {row["name"] for row in rows}
