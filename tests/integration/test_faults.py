"""Faults against the real services: a dropout is silence the coordinator calls STALE and the
audit calls nothing (no reading was taken, none is lost); a spike across a limit is an alarm
raised and cleared."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from controlroom.config import Settings
from controlroom.db.audit import audit
from controlroom.plant.sensors import Liveness
from controlroom.wire.envelopes import StatusChange
from tests.support import EventTap, Worker, until, wait_for

WALK = ["--min", "0", "--max", "1", "--step", "0.2", "--freq", "20"]

STORED = """
SELECT s.name, count(*) AS n, max(r.seq) AS last,
       max(r.taken_on - lag) AS widest_gap
FROM (SELECT sensor_id, seq, taken_on,
             lag(taken_on) OVER (PARTITION BY sensor_id ORDER BY taken_on) AS lag
      FROM sensor_reading) r
JOIN sensor s ON s.id = r.sensor_id GROUP BY s.name
"""


async def test_a_dropout_is_stale_and_the_audit_stays_clean(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    async with EventTap(settings, "status.#") as tap:
        coordinator = start_worker("coordinator")
        start_worker("datamanager")
        # Silence is only seen live: the sensors start once the coordinator listens.
        await until(lambda: "took over" in coordinator.log_text(), "the coordinator")
        solo = start_worker("sensor", "--name", "solo", *WALK, "--fault", "dropout@4s:1.5s")
        pair = start_worker(
            "sensors", "--count", "2", "--freq", "20", "--prefix", "pair",
            "--fault", "pair-1=dropout@4s:1.5s",
        )  # fmt: skip

        def went(liveness: Liveness) -> set[str]:
            return {e.sensor for e in tap.of_type(StatusChange) if e.liveness is liveness}

        def back(name: str) -> bool:
            """STALE, then LIVE again: silent for the dropout, then reading again."""
            seen = [e.liveness for e in tap.of_type(StatusChange) if e.sensor == name]
            return Liveness.STALE in seen and Liveness.LIVE in seen[seen.index(Liveness.STALE) :]

        await until(lambda: back("solo") and back("pair-1"), "the dropouts seen, and their end")
        assert "pair-2" not in went(Liveness.STALE), "the gateway's other sensor never paused"

        async def past_the_dropout() -> bool:
            rows = {row["name"]: row for row in await db.fetch(STORED)}
            return all(rows.get(n) and rows[n]["n"] >= 60 for n in ("solo", "pair-1", "pair-2"))

        await wait_for(past_the_dropout, what="readings after the dropouts")
        assert await solo.stopped() == 0
        assert await pair.stopped() == 0

    async def all_stored() -> bool:
        reported = await db.fetchval("SELECT count(*) FROM run_report")
        readings = await db.fetchval("SELECT count(*) FROM sensor_reading")
        confirmed = await db.fetchval("SELECT coalesce(sum(last_seq), 0) FROM run_report")
        return bool(reported == 3 and readings == confirmed)

    await wait_for(all_stored, what="every confirmed reading stored")
    report = await audit(db)
    assert report.clean and report.missing == 0 and len(report.runs) == 3, report
    rows = {row["name"]: row for row in await db.fetch(STORED)}
    for name in ("solo", "pair-1"):
        assert rows[name]["n"] == rows[name]["last"], f"{name}: seqs 1..n, none used up"
        assert rows[name]["widest_gap"].total_seconds() > 1.2, f"{name}: the silence is there"
    assert rows["pair-2"]["widest_gap"].total_seconds() < 1.0


ALARMS = """
SELECT a.kind, a.peak, a.cleared_at IS NOT NULL AS cleared
FROM alarm a JOIN sensor s ON s.id = a.sensor_id WHERE s.name = 'jumpy' ORDER BY a.raised_at
"""


async def test_a_spike_across_a_limit_raises_an_alarm_that_clears(
    db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    start_worker("coordinator")
    start_worker("datamanager")
    start_worker("sensor", "--name", "jumpy", *WALK, "--safe-max", "5", "--fault", "spike@1s:+10")

    async def cleared() -> list[asyncpg.Record] | None:
        rows = list(await db.fetch(ALARMS))
        return rows if rows and rows[-1]["cleared"] else None

    rows = await wait_for(cleared, what="the spike's alarm, raised and cleared")
    assert [(row["kind"], row["cleared"]) for row in rows] == [("HIGH", True)]
    assert 10 <= rows[0]["peak"] <= 11, "the one reading offset by +10"
