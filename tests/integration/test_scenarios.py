"""The shipped scenarios played against the real services, twenty times faster than written
(four minutes in twelve seconds): each makes happen what its `[expect]` says, in the alarm
table the header's figures are computed from, and the audit stays clean."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import pairwise

import asyncpg

from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.db.alarm_figures import activations, figures
from controlroom.db.audit import audit
from controlroom.plant.alarm_figures import Activation, chattering
from controlroom.plant.sensors import Liveness
from controlroom.simulation.scenario import Scenario, load
from controlroom.wire.envelopes import StatusChange
from tests.support import EventTap, Worker, until, wait_for

SPEED = "20"

ALARMS = """
SELECT s.name AS sensor, a.kind, a.level, a.priority, a.raised_at, a.cleared_at
FROM alarm a JOIN sensor s ON s.id = a.sensor_id ORDER BY a.raised_at, s.name
"""


async def play(
    name: str, start_worker: Callable[..., Worker], db: asyncpg.Connection, tmp: str
) -> Scenario:
    """Run the scenario to its end on a plant of its own; every confirmed reading stored."""
    coordinator = start_worker("coordinator")
    start_worker("datamanager")
    await until(lambda: "took over" in coordinator.log_text(), "the coordinator")
    runner = start_worker("scenario", "run", name, "--speed", SPEED, "--log-dir", tmp)
    scenario = load(name).scaled(float(SPEED))
    status = await runner.wait(timeout=scenario.duration_s + 40)
    assert status == 0, f"scenario run exited {status}:\n{runner.log_text()[-2000:]}"
    assert f"scenario {scenario.name} done" in runner.log_text()

    async def all_stored() -> bool:
        reported = await db.fetchval("SELECT count(*) FROM run_report")
        readings = await db.fetchval("SELECT count(*) FROM sensor_reading")
        confirmed = await db.fetchval("SELECT coalesce(sum(last_seq), 0) FROM run_report")
        return bool(reported == len(scenario.sensors) and readings == confirmed)

    await wait_for(all_stored, what="the goodbyes and every confirmed reading stored")
    report = await audit(db)
    assert report.clean and report.stored > 0, report
    return scenario


def stale_spells(changes: Iterable[StatusChange]) -> dict[str, list[float]]:
    """Each sensor's spells of STALE, in microseconds from STALE to its next change (a spell
    that never ended: infinite)."""
    since: dict[str, int] = {}
    spells: dict[str, list[float]] = {}
    for change in changes:
        began = since.pop(change.sensor, None)
        if began is not None:
            spells.setdefault(change.sensor, []).append(change.at - began)
        if change.liveness is Liveness.STALE:
            since[change.sensor] = change.at
    for sensor in since:
        spells.setdefault(sensor, []).append(math.inf)
    return spells


async def test_the_boiler_overpressure_raises_its_alarms_in_order(
    db: asyncpg.Connection, start_worker: Callable[..., Worker], tmp_path: object
) -> None:
    scenario = await play("boiler-overpressure", start_worker, db, str(tmp_path))
    rows = list(await db.fetch(ALARMS))
    first: dict[tuple[str, str], asyncpg.Record] = {}  # each point's first activation
    for row in rows:
        first.setdefault((row["sensor"], row["level"]), row)
    expected = [
        (alarm.sensor, alarm.kind.value, alarm.level, alarm.priority)
        for alarm in scenario.expect.alarms
    ]
    seen = sorted(first.values(), key=lambda row: row["raised_at"])
    assert [(r["sensor"], r["kind"], r["level"], r["priority"]) for r in seen] == expected, rows
    assert len(rows) == len(expected), "each point once: no chatter on the way up or down"
    assert all(row["cleared_at"] is not None for row in rows), "every fault ends, and its alarm"


async def test_the_stuck_sensor_is_caught_by_staleness_alone(
    settings: Settings,
    db: asyncpg.Connection,
    start_worker: Callable[..., Worker],
    tmp_path: object,
) -> None:
    async with EventTap(settings, "status.#") as tap:
        scenario = await play("stuck-sensor", start_worker, db, str(tmp_path))
    (stuck,) = scenario.expect.stale
    seen = [e.liveness for e in tap.of_type(StatusChange) if e.sensor == stuck]
    assert Liveness.STALE in seen, seen
    assert Liveness.LIVE in seen[seen.index(Liveness.STALE) :], "back when the dropout ends"
    # At 20x a period is 50 ms, so a loaded machine can hold a healthy sensor's frame past
    # three of them: a blip, which a real control room would show too. Only the stuck one is
    # silent for the dropout (90 s, 4.5 s at 20x).
    spells = stale_spells(tap.of_type(StatusChange))
    dropout_us = 90_000_000 // int(SPEED)
    assert max(spells[stuck]) > dropout_us / 2, spells[stuck]
    assert all(
        max(found) < dropout_us / 4 for sensor, found in spells.items() if sensor != stuck
    ), spells
    assert scenario.expect.no_alarms
    assert list(await db.fetch(ALARMS)) == [], "no limit alarm: its value never left the range"
    readings = await db.fetch(
        """SELECT r.taken_on, r.value FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
           WHERE s.name = $1 ORDER BY r.taken_on""",
        stuck,
    )
    gaps = [(b["taken_on"] - a["taken_on"], i) for i, (a, b) in enumerate(pairwise(readings), 1)]
    widest, silent_from = max(gaps)
    assert widest.total_seconds() > 2.0, "the dropout: 90 s at 20x, no readings"
    # stuck from 30 s, silent from 90 s: the last 40 readings before the silence (2 s at
    # 20 Hz, 40 s of the scenario) all read the one frozen value
    frozen = {row["value"] for row in readings[silent_from - 40 : silent_from]}
    assert len(frozen) == 1, "one value while stuck"


async def test_the_flood_makes_a_flood_and_a_chattering_point(
    db: asyncpg.Connection, start_worker: Callable[..., Worker], tmp_path: object
) -> None:
    began = now_us()
    scenario = await play("alarm-flood", start_worker, db, str(tmp_path))
    rows = list(await db.fetch(ALARMS))
    assert len(rows) >= scenario.expect.alarms_at_least, rows
    window = rows[-1]["raised_at"] - rows[0]["raised_at"]
    assert window.total_seconds() < 600, "inside one 10-minute window"
    found = await activations(db, began)
    # Chattering is 3+ activations within a minute of the scenario's own time: played 20x
    # faster, its times are stretched back before the rule is asked.
    speed = float(SPEED)
    as_played = [
        Activation(a.point, began + int((a.raised_at - began) * speed), None) for a in found
    ]
    chattered = {c.point.split()[0] for c in chattering(as_played, began)}
    assert chattered == set(scenario.expect.chattering), found
    assert (await figures(db, now_us())).flood, "the header's rule calls it a flood"
