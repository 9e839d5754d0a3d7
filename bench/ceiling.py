"""`ceiling`: this machine's raw limits, measured in the same run as the case they bound.

- amqp_hop_msgs_per_s: one bare aio-pika publisher process (persistent, pipelined confirms)
  and one consumer process (manual acks), one hop through a durable queue.
- copy_rows_per_s: asyncpg COPY of (sensor_id, taken_on_us, value) rows in batches of 10,000
  into an unindexed scratch table, one connection: what PostgreSQL ingests at best.
- keyed_rows_per_s: the datamanager's own storage (BatchWriter) without a broker or decoding:
  transactions of 20,000 readings into sensor_reading (primary key), on two connections at
  once. This is the limit every reading stored is bounded by.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from bench.harness import BenchPlant, Child
from bench.prefill import sensor_names
from controlroom.db import connect
from controlroom.db.writer import BatchWriter
from controlroom.messages import Frame, PersistBatch, now_us

log = logging.getLogger(__name__)

HOP_MESSAGES = 20_000
COPY_BATCH = 10_000
KEYED_BATCH = 20_000
KEYED_WRITERS = 2
PHASE_S = 4.0


async def run(duration: float = PHASE_S) -> dict[str, Any]:
    """Every limit, each measured for about `duration` seconds (the hop: a fixed count)."""
    async with BenchPlant() as plant:
        hop = await amqp_hop(plant)
        copy = await copy_rows(plant, duration)
        keyed = await keyed_rows(plant, duration)
    return {"case": "ceiling", **hop, **copy, **keyed}


def child_result(child: Child) -> dict[str, int]:
    """The JSON line a rawamqp child printed last."""
    return dict(orjson.loads(child.log_path.read_text().strip().splitlines()[-1]))


async def wait_exit(child: Child, timeout: float) -> None:
    if not await child.exited(timeout) or child.process.returncode != 0:
        raise RuntimeError(f"{child.name} failed:\n{child.log_tail()}")


async def amqp_hop(plant: BenchPlant, count: int = HOP_MESSAGES) -> dict[str, Any]:
    queue = plant.topology.name("ceiling.hop")
    plant.extra_queues.append(queue)
    url = plant.settings.amqp_url
    args = ["-m", "bench.rawamqp"]
    consumer = plant.start(
        "hop-consumer", [*args, "consume", "--url", url, "--queue", queue, "--count", str(count)]
    )
    await asyncio.sleep(1.0)  # let the consumer declare the queue and subscribe
    publisher = plant.start(
        "hop-publisher", [*args, "publish", "--url", url, "--queue", queue, "--count", str(count)]
    )
    await wait_exit(publisher, 120)
    await wait_exit(consumer, 120)
    sent, got = child_result(publisher), child_result(consumer)
    seconds = (got["end_us"] - sent["start_us"]) / 1e6
    return {"amqp_hop_msgs_per_s": round(count / seconds)}


def _rows(batch: int, offset_us: int) -> list[tuple[int, int, float, int, int]]:
    base = now_us() - 3_600_000_000
    return [
        (i % 1000 + 1, base + offset_us + i // 1000, 50.0 + i % 7, 1, offset_us + i // 1000 + 1)
        for i in range(batch)
    ]


async def copy_rows(plant: BenchPlant, duration: float) -> dict[str, Any]:
    connection = await connect(plant.settings)
    try:
        await connection.execute(
            "CREATE TABLE scratch_copy (sensor_id integer, taken_on_us bigint, value float8)"
        )
        rows = 0
        started = time.monotonic()
        while time.monotonic() - started < duration:
            records = [(s, t, v) for s, t, v, _, _ in _rows(COPY_BATCH, rows)]
            await connection.copy_records_to_table("scratch_copy", records=records)
            rows += COPY_BATCH
        seconds = time.monotonic() - started
    finally:
        await connection.close()
    return {"copy_rows_per_s": round(rows / seconds)}


async def keyed_rows(plant: BenchPlant, duration: float) -> dict[str, Any]:
    """The datamanager's own storage (BatchWriter) on KEYED_WRITERS connections, no broker."""
    names = sensor_names("ceil", 1000)
    ticks = KEYED_BATCH // len(names)
    counter = {"tick": 0, "rows": 0}
    start_us = now_us() - 3_600_000_000
    started = time.monotonic()

    async def write() -> None:
        connection = await connect(plant.settings)
        try:
            writer = BatchWriter(connection)
            await writer.prepare()
            while time.monotonic() - started < duration:
                first = counter["tick"]
                counter["tick"] += ticks
                frames = [_tick(names, t, start_us) for t in range(first, first + ticks)]
                counter["rows"] += await writer.write([PersistBatch(frames=frames)])
        finally:
            await connection.close()

    await asyncio.gather(*(write() for _ in range(KEYED_WRITERS)))
    seconds = time.monotonic() - started
    return {"keyed_rows_per_s": round(counter["rows"] / seconds)}


def _tick(names: list[str], tick: int, start_us: int) -> Frame:
    size = len(names)
    return Frame("ceil", "run", names, [tick + 1] * size, [start_us + tick] * size, [50.0] * size)
