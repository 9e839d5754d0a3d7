"""Synthetic traffic for the pre-filled cases: frames and persist batches, published fast.

The bodies are made by the project's own message classes, so they are exactly what a gateway
or a coordinator sends. Publishing uses a window of pipelined confirms so that filling a queue
takes a fraction of the time draining it does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import aio_pika

from controlroom.broker.publishing import json_message
from controlroom.clock import now_us
from controlroom.plant.readings import Frame
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import PersistBatch

WINDOW = 64


def sensor_names(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix}-{n:0{width}d}" for n in range(1, count + 1)]


def frames(
    source: str, names: list[str], ticks: int, start_us: int | None = None
) -> Iterator[Frame]:
    """One frame per tick with every sensor of the source, 1 ms apart, seqs from 1."""
    run = uuid.uuid4().hex
    start = start_us if start_us is not None else now_us() - ticks * 1000 - 1_000_000
    size = len(names)
    for tick in range(ticks):
        taken = start + tick * 1000
        yield Frame(
            source,
            run,
            names,
            [tick + 1] * size,
            [taken] * size,
            [50.0 + (tick + n) % 17 for n in range(size)],
        )


def persist_bodies(frames_: Iterator[Frame], frames_per_batch: int) -> Iterator[bytes]:
    batch = PersistBatch()
    for frame in frames_:
        batch.frames.append(frame)
        if len(batch.frames) >= frames_per_batch:
            yield encode(batch)
            batch = PersistBatch()
    if batch:
        yield encode(batch)


async def publish_all(
    channel: aio_pika.abc.AbstractChannel, queue: str, bodies: Iterator[bytes]
) -> int:
    """Publish persistent messages to a queue with up to WINDOW confirms in flight."""
    window = asyncio.Semaphore(WINDOW)
    tasks: list[asyncio.Task[None]] = []

    async def one(body: bytes) -> None:
        try:
            await channel.default_exchange.publish(
                json_message(body, persistent=True), routing_key=queue
            )
        finally:
            window.release()

    for body in bodies:
        await window.acquire()
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    return len(tasks)
