"""`python -m bench claims`: what holding N names costs a source at start, and the broker.

A source claims each name it holds with an exclusive queue (`controlroom.broker.claims`),
declared pipelined on one channel. This measures, for growing N, the time to claim N names on
a fresh connection, the time a second connection takes to be refused one of them, and the
time until the names are free again after the holder closes its connection. It is the figure
behind `workers.gateway.CLAIM_EACH_UP_TO` (docs/architecture.md, "One running process per name").
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.harness import bench_settings
from controlroom.broker.claims import claim, held_elsewhere
from controlroom.broker.connection import connect
from controlroom.broker.topology import Topology
from controlroom.errors import NameTaken

SIZES = (10, 100, 1_000, 10_000)
FREE_POLLS = 2_400


async def run(duration: float) -> dict[str, Any]:
    """`duration` bounds the whole case: the largest sizes are skipped once it is spent."""
    settings = bench_settings()
    topology = Topology(settings.plant)
    started = time.perf_counter()
    result: dict[str, Any] = {"plant": settings.plant}
    for size in SIZES:
        if time.perf_counter() - started > duration:
            result[f"claim_{size}_s"] = None
            continue
        names = [f"synthetic-{n:05d}" for n in range(size)]
        holder = await connect(settings, "bench claims holder")
        other = await connect(settings, "bench claims other")
        try:
            begun = time.perf_counter()
            await claim(holder, topology, names)
            result[f"claim_{size}_s"] = round(time.perf_counter() - begun, 3)
            begun = time.perf_counter()
            try:
                await claim(other, topology, [names[-1]])
            except NameTaken:
                result[f"refused_{size}_ms"] = round((time.perf_counter() - begun) * 1000, 1)
            begun = time.perf_counter()
            await holder.close()
            for _ in range(FREE_POLLS):  # the broker deletes the queues after the close
                if not await held_elsewhere(other, topology, [names[-1]]):
                    break
                await asyncio.sleep(0.05)
            result[f"freed_{size}_s"] = round(time.perf_counter() - begun, 3)
        finally:
            await holder.close()
            await other.close()
    return result
