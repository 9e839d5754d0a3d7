"""`datamanager`: rows/s stored from a pre-filled persistence queue.

The queue is filled first with persist batches as a coordinator sends them (frames of
`--sensors` readings, `--frames-per-batch` frames per message); then the datamanager starts and
the clock runs from its first taken message to the commit of the last reading (seen by a probe
on the last tick, then confirmed with a count). The audit then checks every row is there once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aio_pika

from bench.harness import BenchPlant, Reconnecting, ResourceSampler, ready_count
from bench.prefill import frames, persist_bodies, publish_all, sensor_names
from controlroom.db.audit import audit

log = logging.getLogger(__name__)

POLL_S = 0.02
TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class Fill:
    readings: int = 2_000_000
    sensors: int = 1000
    frames_per_batch: int = 4
    writers: int = 2

    @property
    def ticks(self) -> int:
        return max(1, self.readings // self.sensors)


async def run(fill: Fill) -> dict[str, Any]:
    async with BenchPlant() as plant:
        names = sensor_names("dm", fill.sensors)
        total = fill.ticks * fill.sensors
        connection = await aio_pika.connect(plant.settings.amqp_url)
        db = Reconnecting(plant)
        try:
            channel = await connection.channel()
            queue = plant.topology.persist_queue
            await plant.topology.persist(channel)
            filling = time.monotonic()
            messages = await publish_all(
                channel,
                queue,
                persist_bodies(frames("dm-gateway", names, fill.ticks), fill.frames_per_batch),
            )
            log.info(
                "filled %s with %d messages (%d readings) in %.1fs",
                queue,
                messages,
                total,
                time.monotonic() - filling,
            )
            plant.worker("datamanager", "datamanager", "--writers", str(fill.writers))
            sampler = ResourceSampler(dict(plant.children), plant.harness_pids)
            async with sampler:
                started = await _first_taken(plant, channel, queue, messages)
                await sampler.open_window(db)
                finished = await _all_stored(plant, db, names[0], fill.ticks, total)
                await sampler.close_window()
            report = await db.run(audit)
        finally:
            await db.close()
            await connection.close()
    seconds = finished - started
    return {
        "case": "datamanager",
        "readings": total,
        "messages": messages,
        "writers": fill.writers,
        "duration_s": round(seconds, 2),
        "readings_per_s": round(total / seconds),
        "audit_clean": report.clean,
        "audit_stored": report.stored,
        "disturbed": bool(plant.disturbances),
        **sampler.report(total),
    }


async def _first_taken(
    plant: BenchPlant, channel: aio_pika.abc.AbstractChannel, queue: str, messages: int
) -> float:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        plant.check_alive()
        if await ready_count(channel, queue) < messages:
            return time.monotonic()
        await asyncio.sleep(POLL_S)
    raise RuntimeError("the datamanager never took a message")


async def _all_stored(
    plant: BenchPlant, db: Reconnecting, probe: str, ticks: int, total: int
) -> float:
    """The moment the last reading is committed: the probe's last tick, then the full count."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        plant.check_alive()
        last = await db.fetchval(
            "SELECT max(r.seq) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id "
            "WHERE s.name = $1",
            probe,
        )
        if last is not None and last >= ticks:
            seen = time.monotonic()
            if await db.fetchval("SELECT count(*) FROM sensor_reading") >= total:
                return seen
        await asyncio.sleep(POLL_S)
    raise RuntimeError("the datamanager did not store every reading in time")
