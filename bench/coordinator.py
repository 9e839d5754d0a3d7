"""`coordinator`: readings/s from pre-filled source queues to the coordinator's outputs.

Each source's queue is filled with frames first (`--frame-size` readings each; 1 means one
message per reading). The coordinator starts; once it asks for announcements, the sources
announce and the clock starts. A sink standing in for the datamanager takes the persist queue
and counts readings; the clock stops when the last one comes out. A viewer is bound to the
events exchange throughout, as in a real plant.

With `--frame-size 1` a bare aio-pika relay (consume, publish persistent with a confirm, ack
after the confirm) moves the same messages in the same run, and the coordinator's rate is also
given as a ratio of the relay's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage

from bench.ceiling import child_result, wait_exit
from bench.harness import BenchPlant, ResourceSampler
from bench.prefill import frames, publish_all, sensor_names
from bench.probes import ratio
from controlroom.broker.publishing import json_message
from controlroom.broker.topology import readings_key
from controlroom.plant.sensors import SensorInfo
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import Announce

log = logging.getLogger(__name__)

POLL_S = 0.02
SETTLED_S = 1.0
TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Fill:
    readings: int = 2_000_000
    sources: int = 4
    frame_size: int = 1000

    @property
    def ticks(self) -> int:
        return max(1, self.readings // (self.sources * self.frame_size))


async def run(fill: Fill) -> dict[str, Any]:
    async with BenchPlant() as plant:
        topology = plant.topology
        sources = [f"c{n + 1}-gateway" for n in range(fill.sources)]
        names = {s: sensor_names(s.removesuffix("-gateway"), fill.frame_size) for s in sources}
        plant.extra_queues.extend(topology.readings_queue(s) for s in sources)
        connection = await aio_pika.connect(plant.settings.amqp_url)
        relays: list[int] = []
        try:
            channel = await connection.channel()
            # The relay runs before and after the coordinator, so a drift of the machine
            # meanwhile does not favour either side of the ratio.
            if fill.frame_size == 1:
                relays.append(await _relay(plant, channel, fill))
            await topology.persist(channel)
            for source in sources:
                await topology.readings(channel, source)
                await publish_all(
                    channel,
                    topology.readings_queue(source),
                    (encode(f) for f in frames(source, names[source], fill.ticks)),
                )
            total = fill.ticks * fill.frame_size * len(sources)
            viewer = await _count_viewer_frames(connection, plant)
            sink = PersistSink(total)
            await sink.start(await connection.channel(), topology.persist_queue)
            discovery = await channel.declare_queue(exclusive=True, auto_delete=True)
            await discovery.bind(await topology.discovery(channel))
            coordinator = plant.worker("coordinator", "coordinator")
            sampler = ResourceSampler({"coordinator": coordinator}, plant.harness_pids)
            async with sampler:
                await _wait_for_message(plant, discovery)
                announcements = await topology.announcements(channel)
                started = time.monotonic()
                sampler.start_window()
                for source in sources:
                    infos = [SensorInfo(n, safe_min=5.0, safe_max=95.0) for n in names[source]]
                    announce = Announce(source, "bench", infos)
                    await announcements.publish(
                        json_message(encode(announce), persistent=False),
                        routing_key=readings_key(source),
                    )
                finished = await sink.wait(plant)
                sampler.end_window()
            forwarded = sink.readings
            if fill.frame_size == 1:
                relays.append(await _relay(plant, channel, fill))
        finally:
            await connection.close()
    seconds = finished - started
    result: dict[str, Any] = {
        "case": "coordinator",
        "readings": total,
        "sources": len(sources),
        "frame_size": fill.frame_size,
        "duration_s": round(seconds, 2),
        "readings_per_s": round(total / seconds),
        "forwarded": forwarded,
        "complete": forwarded == total,
        "viewer_frames": viewer["frames"],
        **sampler.report(total),
    }
    if relays:
        relay = round(sum(relays) / len(relays))
        result["relay_msgs_per_s"] = relay
        result["relay_runs_msgs_per_s"] = relays
        result["ratio_to_relay"] = ratio(result["readings_per_s"], relay)
    return result


async def _count_viewer_frames(
    connection: aio_pika.abc.AbstractConnection, plant: BenchPlant
) -> dict[str, int]:
    counts = {"frames": 0}
    channel = await connection.channel(publisher_confirms=False)
    queue = await plant.topology.viewer(channel, "reading.#")

    async def on_message(message: AbstractIncomingMessage) -> None:
        counts["frames"] += 1

    await queue.consume(on_message, no_ack=True)
    return counts


async def _wait_for_message(plant: BenchPlant, queue: aio_pika.abc.AbstractQueue) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        plant.check_alive()
        message = await queue.get(fail=False, no_ack=True)
        if message is not None:
            return
        await asyncio.sleep(POLL_S)
    raise RuntimeError("the coordinator never asked for announcements")


class PersistSink:
    """Stands in for the datamanager: takes persist batches and counts their readings."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.readings = 0
        self.last_at = 0.0
        self.done = asyncio.Event()

    async def start(self, channel: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
        queue = await channel.declare_queue(queue_name, passive=True)
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        body = orjson.loads(message.body)
        self.readings += sum(len(frame["names"]) for frame in body["frames"])
        self.last_at = time.monotonic()
        if self.readings >= self.total:
            self.done.set()

    async def wait(self, plant: BenchPlant) -> float:
        """The moment the last reading came out."""
        deadline = time.monotonic() + TIMEOUT_S
        while not self.done.is_set():
            plant.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("the coordinator did not forward every reading in time")
            try:
                await asyncio.wait_for(self.done.wait(), 1.0)
            except TimeoutError:
                continue
        return self.last_at


async def _relay(plant: BenchPlant, channel: aio_pika.abc.AbstractChannel, fill: Fill) -> int:
    """The bare relay on the same messages: one source's worth times the number of sources."""
    source_queue = plant.topology.name("ceiling.relay-in")
    target_queue = plant.topology.name("ceiling.relay-out")
    for queue in (source_queue, target_queue):
        if queue not in plant.extra_queues:
            plant.extra_queues.append(queue)
    await channel.declare_queue(source_queue, durable=True)
    names = sensor_names("relay", 1)
    bodies = (
        encode(f) for _ in range(fill.sources) for f in frames("relay-gateway", names, fill.ticks)
    )
    count = await publish_all(channel, source_queue, bodies)
    relay = plant.start(
        f"relay-{sum(name.startswith('relay') for name in plant.children) + 1}",
        [
            "relay",
            "--url",
            plant.settings.amqp_url,
            "--queue",
            source_queue,
            "--target",
            target_queue,
            "--count",
            str(count),
        ],
        module="bench.rawamqp",
    )
    await wait_exit(relay, TIMEOUT_S)
    timing = child_result(relay)
    return round(count / ((timing["end_us"] - timing["start_us"]) / 1e6))
