"""The plant pipeline end to end, against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable

import asyncpg

from controlroom.config import Settings
from controlroom.db.audit import audit
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Liveness
from controlroom.simulation.presets import REFERENCE_PLANT
from controlroom.wire.envelopes import SourceState, StatusChange
from tests.support import EventTap, Worker, wait_for

REFERENCE_NAMES = {s.info.name for s in REFERENCE_PLANT}


async def stored_per_sensor(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT s.name, count(*) AS n FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id "
        "GROUP BY s.name"
    )
    return {row["name"]: row["n"] for row in rows}


def sensor_args(name: str, freq: float = 20) -> list[str]:
    walk = ["--min", "0", "--max", "10", "--step", "1", "--freq", str(freq)]
    return ["sensor", "--name", name, *walk]


def run_audit(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit"],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_plant_persists_every_reference_sensor_and_audits_clean(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    plant = start_worker("plant", "--no-bridge", "--no-roles")

    async def all_six_stored() -> bool:
        counts = await stored_per_sensor(db)
        return {name for name, n in counts.items() if n >= 2} >= REFERENCE_NAMES

    await wait_for(all_six_stored, timeout=30, what="readings of all six reference sensors")
    assert await plant.stopped() == 0
    result = await asyncio.to_thread(run_audit, settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit clean" in result.stdout
    report = await audit(db)
    assert {run.sensor for run in report.runs} >= REFERENCE_NAMES
    assert all(run.confirmed_seq for run in report.runs), "every sensor reported on leaving"


async def test_discovery_whatever_the_start_order(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    early = start_worker(*sensor_args("early"))
    async with EventTap(settings, "source.#", "status.#", "reading.#") as tap:

        def sources() -> set[str]:
            return {s.sensor.name for s in tap.of_type(SourceState)}

        async def seen(*names: str) -> bool:
            return set(names) <= sources()

        coordinator = start_worker("coordinator")
        start_worker("datamanager")
        await wait_for(lambda: seen("early"), what="a sensor started before the coordinator")
        start_worker(*sensor_args("late"))
        await wait_for(lambda: seen("late"), what="a sensor joining a running plant")

        await coordinator.stopped()
        tap.received.clear()
        start_worker("coordinator")
        await wait_for(
            lambda: seen("early", "late"), what="every sensor after a coordinator restart"
        )

        async def readings_flow_again() -> bool:
            return {"early", "late"} <= {n for f in tap.of_type(Frame) for n in f.names}

        await wait_for(readings_flow_again, what="readings after the restart")
    assert early.running()


async def test_stopped_sensor_goes_offline_and_silent_one_stale(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    async with EventTap(settings, "status.#") as tap:
        start_worker("coordinator")
        leaving = start_worker(*sensor_args("leaving", freq=10))
        frozen = start_worker(*sensor_args("frozen", freq=10))

        def liveness(name: str) -> list[Liveness]:
            return [s.liveness for s in tap.of_type(StatusChange) if s.sensor == name]

        async def live(name: str) -> bool:
            return Liveness.LIVE in liveness(name)

        await wait_for(lambda: live("leaving"), what="the sensor to be live")
        await wait_for(lambda: live("frozen"), what="the other sensor to be live")
        await leaving.stopped()

        async def offline() -> bool:
            return liveness("leaving")[-1:] == [Liveness.OFFLINE]

        await wait_for(offline, what="OFFLINE after the goodbye")
        frozen.signal(signal.SIGSTOP)
        try:

            async def stale() -> bool:
                return liveness("frozen")[-1:] == [Liveness.STALE]

            await wait_for(stale, timeout=10, what="STALE after three silent periods")
        finally:
            frozen.signal(signal.SIGCONT)

        async def live_again() -> bool:
            return liveness("frozen")[-1:] == [Liveness.LIVE]

        await wait_for(live_again, what="LIVE again on the next reading")


async def test_two_coordinators_and_two_datamanagers_store_once_in_order(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    async with EventTap(settings, "reading.#") as tap:
        for _ in range(2):
            start_worker("coordinator")
            start_worker("datamanager")
        sensors = [start_worker(*sensor_args(f"s{n}", freq=50)) for n in range(3)]
        gateway = start_worker("sensors", "--count", "20", "--freq", "20", "--prefix", "gw")

        async def enough() -> bool:
            counts = await stored_per_sensor(db)
            return len(counts) >= 23 and min(counts.values()) >= 20

        await wait_for(enough, timeout=30, what="readings from every sensor")
        for worker in [*sensors, gateway]:
            assert await worker.stopped() == 0

    async def settled() -> bool:
        report = await audit(db)
        return report.clean and len(report.runs) == 23 and all(r.confirmed_seq for r in report.runs)

    await wait_for(settled, timeout=20, what="a clean audit of all 23 sensors")
    report = await audit(db)
    assert report.duplicates == 0
    assert sum(run.stored for run in report.runs) == sum(run.expected_last for run in report.runs)

    seqs: dict[str, list[int]] = defaultdict(list)
    for frame in tap.of_type(Frame):
        for name, seq in zip(frame.names, frame.seqs, strict=True):
            seqs[name].append(seq)
    assert len(seqs) == 23
    for name, observed in seqs.items():
        assert observed == sorted(set(observed)), f"viewer events of {name} out of order"


async def test_names_with_markup_sql_and_unicode_travel_end_to_end(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    names = ["<img src=x onerror=alert(1)>", "'); DROP TABLE sensor; --", "température ☃"]
    start_worker("coordinator")
    start_worker("datamanager")
    for name in names:
        start_worker(*sensor_args(name))

    async def all_stored() -> bool:
        return set(names) <= set(await stored_per_sensor(db))

    await wait_for(all_stored, what="readings of oddly named sensors")
