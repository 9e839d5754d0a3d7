"""Alarm state outlives every process: an excursion is one alarm whatever restarts during it.

The issue's case: a sensor held at 10..11 with a safe maximum of 5 is one HIGH alarm; the only
coordinator is stopped, killed (-9) or replaced by another that was running beside it, and
afterwards there is still exactly one alarm row for the excursion, and it clears when the value
returns.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from controlroom.clock import now_us
from tests.support import Worker, until, wait_for

HOT = ["--min", "10", "--max", "11", "--step", "0.5", "--freq", "20", "--safe-max", "5"]
BACK = ["--min", "0", "--max", "1", "--step", "0.5", "--freq", "20", "--safe-max", "5"]

ALARMS = """
SELECT a.id, a.kind, a.cleared_at IS NULL AS active
FROM alarm a JOIN sensor s ON s.id = a.sensor_id WHERE s.name = 'hot' ORDER BY a.raised_at
"""
# Readings of 'hot' stored from a moment on: proof that a coordinator has evaluated them (a
# reading's persist batch carries the alarms its evaluation raised, in the same transaction).
STORED_SINCE = """
SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
WHERE s.name = 'hot' AND r.taken_on > to_timestamp($1::float8 / 1e6)
"""


async def one_alarm(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await db.fetch(ALARMS))


async def evaluated_since(db: asyncpg.Connection, since_us: int, readings: int) -> bool:
    return int(await db.fetchval(STORED_SINCE, since_us)) >= readings


@pytest.mark.parametrize("restart", ["stop", "kill", "failover"])
async def test_an_excursion_is_one_alarm_whatever_happens_to_the_coordinator(
    restart: str, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    coordinator = start_worker("coordinator")
    start_worker("datamanager")
    sensor = start_worker("sensor", "--name", "hot", *HOT)

    first = await wait_for(lambda: one_alarm(db), what="the HIGH alarm of the excursion")
    assert [(row["kind"], row["active"]) for row in first] == [("HIGH", True)]
    if restart == "failover":  # started now, it is not the one consuming the sensor's queue
        standby = start_worker("coordinator")
        await until(lambda: "took over 1 open alarms" in standby.log_text(), "the standby")

    if restart == "stop":
        assert await coordinator.stopped() == 0
    else:
        await coordinator.killed()
    if restart != "failover":
        start_worker("coordinator")
    restarted = now_us()
    # Two seconds of readings evaluated by the coordinator that took over.
    await wait_for(
        lambda: evaluated_since(db, restarted + 1_000_000, 20),
        what="readings evaluated after the restart",
    )
    rows = await one_alarm(db)
    assert [(row["id"], row["active"]) for row in rows] == [(first[0]["id"], True)], (
        "the excursion is still one active alarm"
    )

    assert await sensor.stopped() == 0
    start_worker("sensor", "--name", "hot", *BACK)

    async def cleared() -> list[asyncpg.Record] | None:
        rows = await one_alarm(db)
        return rows if rows and not rows[-1]["active"] else None

    rows = await wait_for(cleared, what="the alarm to clear when the value returns")
    assert [(row["id"], row["active"]) for row in rows] == [(first[0]["id"], False)]
