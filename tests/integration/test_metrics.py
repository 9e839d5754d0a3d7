"""Every long-running worker's Prometheus endpoint: the counters move with the load, and once
the plant is still they agree with what the audit finds stored."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from controlroom.db.audit import audit
from devsupport.net import free_port
from tests.support import Worker, scrape, wait_for


async def test_worker_metrics_move_with_the_load_and_match_the_audit(
    db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    ports = {role: free_port() for role in ("gateway", "coordinator", "datamanager", "bridge")}

    def metrics(role: str) -> list[str]:
        return ["--metrics-port", str(ports[role])]

    start_worker("coordinator", *metrics("coordinator"))
    start_worker("datamanager", *metrics("datamanager"))
    bridge = start_worker("bridge", "--port", "0", *metrics("bridge"))

    async def bridge_following() -> bool:  # a viewer hears only what comes after it bound
        return "following" in bridge.log_text()

    await wait_for(bridge_following, timeout=20, what="the bridge to follow the events")
    gateway = start_worker(
        "sensors", "--count", "20", "--freq", "10", "--prefix", "m", *metrics("gateway")
    )

    async def moving() -> dict[str, dict[str, float]] | None:
        try:
            scraped = {role: await scrape(port) for role, port in ports.items()}
        except OSError:
            return None  # an endpoint not up yet
        # A bridge with no browser passes nothing on: it counts what it hears.
        moved = all(
            s.get(
                "controlroom_readings_in_total"
                if role == "bridge"
                else "controlroom_readings_out_total",
                0,
            )
            > 0
            for role, s in scraped.items()
        )
        return scraped if moved else None

    first = await wait_for(moving, timeout=30, what="every worker's counters to move")
    later = await wait_for(
        lambda: _grown(ports, first), timeout=30, what="the counters to grow with the load"
    )
    assert later["datamanager"]["controlroom_batches_total"] >= 1
    assert later["datamanager"]["controlroom_commit_seconds_count"] >= 1
    assert later["coordinator"]["controlroom_batches_total"] >= 1

    assert await _stopped(gateway) == 0  # its goodbye tells the audit what it had confirmed

    async def settled() -> tuple[dict[str, dict[str, float]], int] | None:
        report = await audit(db)
        if not report.clean or not report.runs:
            return None
        scraped = {role: await scrape(ports[role]) for role in ("coordinator", "datamanager")}
        stored = report.stored
        if scraped["datamanager"]["controlroom_readings_out_total"] != stored:
            return None
        return scraped, stored

    scraped, stored = await wait_for(settled, timeout=30, what="a clean audit and still counters")
    coordinator, datamanager = scraped["coordinator"], scraped["datamanager"]
    # Nothing was redelivered in this calm run, so every hop counted each reading once.
    assert coordinator["controlroom_readings_in_total"] == stored
    assert coordinator["controlroom_readings_out_total"] == stored
    assert datamanager["controlroom_readings_in_total"] == stored
    assert datamanager["controlroom_backlog_readings"] == 0
    assert coordinator["controlroom_dead_letters_total"] == 0
    heard = await scrape(ports["bridge"])
    assert heard["controlroom_readings_in_total"] == stored
    assert heard["controlroom_viewers_connected"] == 0


async def _grown(
    ports: dict[str, int], before: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]] | None:
    now = {role: await scrape(port) for role, port in ports.items()}
    key = "controlroom_readings_out_total"
    grown = all(now[role][key] > before[role][key] for role in ("gateway", "datamanager"))
    return now if grown else None


async def _stopped(worker: Worker) -> int:
    return await worker.stopped()
