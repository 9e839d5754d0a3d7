"""`ceiling`: this machine's raw limits, measured in the same run as the case they bound.

- amqp_hop_msgs_per_s: one bare aio-pika publisher process (persistent, pipelined confirms)
  and one consumer process (manual acks), one hop through a durable queue.
- copy_rows_per_s: binary COPY of readings (sensor_reading's columns) in batches of 10,000
  into an unindexed scratch table, one connection: what PostgreSQL ingests at best.
- keyed_rows_per_s: the same into a scratch table with sensor_reading's primary key, in
  transactions of 20,000, on two connections at once (as the datamanager's two writers), each
  writing sensors of its own. This is the limit every reading stored is bounded by.

The rows are built once per batch in the binary COPY format (controlroom.db.copy, the
datamanager's own), so the client costs next to nothing and PostgreSQL is what is measured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg
import numpy as np
import orjson

from bench.harness import BenchPlant, log_tail
from controlroom.clock import now_us
from controlroom.db import connect
from controlroom.db.copy import COLUMNS, ReadingRows
from controlroom.plant.readings import Frame
from controlroom.processes import WorkerProcess

log = logging.getLogger(__name__)

HOP_MESSAGES = 20_000
COPY_BATCH = 10_000
KEYED_BATCH = 20_000
KEYED_WRITERS = 2
SENSORS = 1000  # per connection
PHASE_S = 4.0


async def run(duration: float = PHASE_S) -> dict[str, Any]:
    """Every limit, each measured for about `duration` seconds (the hop: a fixed count)."""
    async with BenchPlant() as plant:
        hop = await amqp_hop(plant)
        copy = await copy_rows(plant, duration)
        keyed = await keyed_rows(plant, duration)
    return {"case": "ceiling", **hop, **copy, **keyed}


def child_result(child: WorkerProcess) -> dict[str, int]:
    """The JSON line a rawamqp child printed last."""
    return dict(orjson.loads(child.last_log_line()))


async def wait_exit(child: WorkerProcess, timeout: float) -> None:
    if await child.wait(timeout) != 0:
        raise RuntimeError(f"{child} failed:\n{log_tail(child)}")


async def amqp_hop(plant: BenchPlant, count: int = HOP_MESSAGES) -> dict[str, Any]:
    queue = plant.topology.name("ceiling.hop")
    plant.extra_queues.append(queue)
    url = plant.settings.amqp_url
    consumer = plant.start(
        "hop-consumer",
        ["consume", "--url", url, "--queue", queue, "--count", str(count)],
        module="bench.rawamqp",
    )
    await asyncio.sleep(1.0)  # let the consumer declare the queue and subscribe
    publisher = plant.start(
        "hop-publisher",
        ["publish", "--url", url, "--queue", queue, "--count", str(count)],
        module="bench.rawamqp",
    )
    await wait_exit(publisher, 120)
    await wait_exit(consumer, 120)
    sent, got = child_result(publisher), child_result(consumer)
    seconds = (got["end_us"] - sent["start_us"]) / 1e6
    return {"amqp_hop_msgs_per_s": round(count / seconds)}


async def copy_rows(plant: BenchPlant, duration: float) -> dict[str, Any]:
    connection = await connect(plant.settings)
    try:
        await connection.execute("CREATE TABLE scratch_copy (LIKE sensor_reading)")
        start_us = now_us() - 3_600_000_000
        rows = 0
        started = time.monotonic()
        while time.monotonic() - started < duration:
            await copy_readings(
                connection, "scratch_copy", COPY_BATCH, 1, rows // SENSORS, start_us
            )
            rows += COPY_BATCH
        seconds = time.monotonic() - started
    finally:
        await connection.close()
    return {"copy_rows_per_s": round(rows / seconds)}


async def keyed_rows(plant: BenchPlant, duration: float) -> dict[str, Any]:
    setup = await connect(plant.settings)
    try:
        await setup.execute("CREATE TABLE scratch_keyed (LIKE sensor_reading INCLUDING INDEXES)")
    finally:
        await setup.close()
    rows, seconds = await keyed_into(plant, "scratch_keyed", duration, now_us() - 3_600_000_000)
    return {"keyed_rows_per_s": round(rows / seconds)}


async def keyed_into(
    plant: BenchPlant, table: str, duration: float, start_us: int
) -> tuple[int, float]:
    """Binary COPY into `table` for `duration` seconds on KEYED_WRITERS connections, in
    transactions of KEYED_BATCH (as the datamanager's writers); the rows and the seconds.
    Readings are taken from `start_us` on, a microsecond a tick."""
    counts = [0] * KEYED_WRITERS
    started = time.monotonic()

    async def write(number: int) -> None:
        connection = await connect(plant.settings)
        try:
            while time.monotonic() - started < duration:
                async with connection.transaction():
                    tick = counts[number] // SENSORS
                    first_id = 1 + number * SENSORS
                    await copy_readings(connection, table, KEYED_BATCH, first_id, tick, start_us)
                counts[number] += KEYED_BATCH
        finally:
            await connection.close()

    await asyncio.gather(*(write(n) for n in range(KEYED_WRITERS)))
    return sum(counts), time.monotonic() - started


async def copy_readings(
    connection: asyncpg.Connection, table: str, count: int, first_id: int, tick: int, start_us: int
) -> None:
    """`count` readings of SENSORS sensors (ids from `first_id`), ticks from `tick` on."""
    rows = ReadingRows(count)
    ids = np.arange(first_id, first_id + SENSORS, dtype=np.int32)
    names = [""] * SENSORS
    values = [50.0] * SENSORS
    for seq in range(tick + 1, tick + 1 + count // SENSORS):
        frame = Frame("ceil", "run", names, [seq] * SENSORS, [start_us + seq] * SENSORS, values)
        rows.add(frame, ids, run_id=1)
    payload = memoryview(rows.payload())
    await connection.copy_to_table(table, source=payload, columns=COLUMNS, format="binary")
