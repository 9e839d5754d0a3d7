"""Latency probes: taken_on -> commit (visible in PostgreSQL) and taken_on -> a viewer's receipt.

The commit probe does not touch the writer: it polls, every POLL_S, the newest readings of a
few probe sensors (one per gateway; a gateway's readings travel and commit together, so one
sensor speaks for its whole frame) through the primary key, an index range scan of a few rows.
A reading first seen by a poll was committed before that poll's snapshot, so
`poll time - taken_on` is an upper bound of its commit latency, at most POLL_S too high.

The viewer probe is what the TUI and the bridge are: an exclusive queue bound to the events
exchange. Each frame's latency is that of its oldest reading, counted once per reading.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractIncomingMessage

from bench.harness import open_broker
from controlroom.broker.topology import Topology
from controlroom.clock import now_us
from controlroom.config import Settings

log = logging.getLogger(__name__)

POLL_S = 0.01

_NEWER = """
SELECT p.id, (extract(epoch FROM s.taken_on) * 1000000)::int8 AS taken_on_us, s.seq
FROM unnest($1::int[], $2::timestamptz[]) AS p(id, after)
JOIN sensor_reading s ON s.sensor_id = p.id AND s.taken_on > p.after
"""
# Each poll must be an index range scan of the few new rows. A generic plan (what a prepared
# statement gets after five runs) may scan every row of the probe sensors instead, which costs
# PostgreSQL a core by the end of a long run: insist on plans made for the actual values.
_PROBE_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Latencies:
    """Weighted samples (milliseconds, weight) taken inside the measured window."""

    samples: list[tuple[float, int]] = field(default_factory=list)

    def add(self, ms: float, weight: int = 1) -> None:
        self.samples.append((ms, weight))

    def percentile(self, q: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        total = sum(w for _, w in ordered)
        target = q * total
        running = 0
        for ms, weight in ordered:
            running += weight
            if running >= target:
                return round(ms, 1)
        return round(ordered[-1][0], 1)

    def summary(self, prefix: str) -> dict[str, float | int | None]:
        return {
            f"{prefix}_p50_ms": self.percentile(0.50),
            f"{prefix}_p99_ms": self.percentile(0.99),
            f"{prefix}_max_ms": self.percentile(1.0),
            f"{prefix}_samples": len(self.samples),
        }


@dataclass(slots=True)
class Window:
    """The measured interval, in microseconds since the epoch; readings taken inside it count."""

    start_us: int = 0
    end_us: int = 0

    def open(self) -> None:
        self.start_us = now_us()
        self.end_us = 0

    def close(self) -> None:
        self.end_us = now_us()

    def holds(self, taken_on_us: int) -> bool:
        return (
            self.start_us > 0
            and taken_on_us >= self.start_us
            and (self.end_us == 0 or taken_on_us < self.end_us)
        )


class CommitProbe:
    """Polls probe sensors' newest stored readings; also tracks each one's highest stored seq."""

    def __init__(
        self, connect: Callable[[], Awaitable[asyncpg.Connection]], window: Window
    ) -> None:
        self._connect = connect
        self._connection: asyncpg.Connection | None = None
        self._window = window
        self.disturbances = 0
        self._after: dict[int, int] = {}
        self.last_seq: dict[int, int] = {}
        self.latency = Latencies()
        self._task: asyncio.Task[None] | None = None

    async def watch(self, sensor_ids: Sequence[int]) -> None:
        for sensor_id in sensor_ids:
            self._after.setdefault(sensor_id, 0)
            self.last_seq.setdefault(sensor_id, 0)
        if self._task is None:
            self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()

    async def _poll(self) -> None:
        while True:
            try:
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._connect()
                    for name, value in _PROBE_SETTINGS.items():
                        await self._connection.execute(f"SET {name} = {value}")
                await self._poll_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # Someone restarted PostgreSQL (the machine is shared): note it, carry on.
                if not self.disturbances:
                    log.warning("commit probe lost its connection (%s); reconnecting", error)
                self.disturbances += 1
                self._connection = None
                await asyncio.sleep(0.5)
            await asyncio.sleep(POLL_S)

    async def _poll_once(self) -> None:
        assert self._connection is not None
        ids = list(self._after)
        after = [_EPOCH + timedelta(microseconds=self._after[i]) for i in ids]
        sent = now_us()
        rows = await self._connection.fetch(_NEWER, ids, after)
        for sensor_id, taken_on_us, seq in rows:
            if taken_on_us > self._after[sensor_id]:
                self._after[sensor_id] = taken_on_us
            if seq > self.last_seq[sensor_id]:
                self.last_seq[sensor_id] = seq
            if self._window.holds(taken_on_us):
                self.latency.add((sent - taken_on_us) / 1000)


class ViewerProbe:
    """A viewer on the events exchange, timing `reading.*` frames on receipt."""

    def __init__(self, settings: Settings, window: Window) -> None:
        self._settings = settings
        self._window = window
        self.latency = Latencies()
        self.frames = 0
        self.readings = 0
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def start(self) -> None:
        self._connection = await open_broker(self._settings)
        channel = await self._connection.channel(publisher_confirms=False)
        queue = await Topology.of(self._settings).viewer(channel, "reading.#")
        await queue.consume(self._on_message, no_ack=True)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        received = now_us()
        try:
            frame = orjson.loads(message.body)
            taken_on, readings = frame["taken_on"], len(frame["names"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        if not readings:
            return
        # A frame's column of times is one number when every reading shares it.
        oldest = taken_on if isinstance(taken_on, int) else min(taken_on)
        self.frames += 1
        self.readings += readings
        if self._window.holds(oldest):
            self.latency.add((received - oldest) / 1000, readings)


def ratio(value: float | None, limit: float | None) -> float | None:
    if value is None or not limit or math.isnan(limit):
        return None
    return round(value / limit, 3)
