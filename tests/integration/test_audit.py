"""The audit shown failing: a real plant's stored readings, damaged on purpose, then audited.

A small plant (a sensor run twice, a gateway of two sensors) runs once per module and leaves:
each sensor says goodbye with its last confirmed seq, and every reading is stored. Each case
copies what that plant stored into its own plant schema, damages the copy in a known way, and
asserts that the audit (the `audit()` function and the `controlroom-worker audit` command)
reports exactly that damage: these gaps, these duplicates, exit status 1, and nothing else.

The last cases turn the same damage on the fault harness (tests/faults/harness.py) with the
audit replaced by one that always answers clean: its own tally of the tables must still fail.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest

from controlroom.config import Settings
from controlroom.db import connect, migrate
from controlroom.db.audit import AuditReport, RunAudit, audit
from controlroom.db.connection import quote_ident
from controlroom.db.migrations import drop_plant
from controlroom.processes import ProcessGroup
from tests.conftest import new_plant_settings
from tests.faults import harness
from tests.faults.harness import Plant
from tests.support import Worker, delete_plant_topology, wait_for

READINGS_PER_RUN = 200  # each run is recorded until it stored at least this many
FREQ = "200"  # readings per second per sensor: about a second per run
RUN_TABLES = ("sensor", "source_run", "run_report", "sensor_reading")

Gaps = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One sensor run of the recorded plant, as its goodbye left it."""

    sensor: str
    sensor_id: int
    run: str
    run_id: int
    last_seq: int

    @property
    def key(self) -> tuple[str, str]:
        return self.sensor, self.run


@dataclass(frozen=True, slots=True)
class Recording:
    settings: Settings
    runs: tuple[StoredRun, ...]  # solo's first run, solo's second, then the gateway's two


# --- the recorded plant ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    """A real plant, run once for the module until every sensor said goodbye and was stored."""
    settings = new_plant_settings()
    try:
        yield asyncio.run(record_plant(settings, tmp_path_factory.mktemp("recorded-plant")))
    finally:
        asyncio.run(remove_plant(settings))


async def remove_plant(settings: Settings) -> None:
    await drop_plant(settings)
    await delete_plant_topology(settings)


def sensor_args(name: str) -> list[str]:
    return ["sensor", "--name", name, "--min", "0", "--max", "100", "--step", "2", "--freq", FREQ]


async def record_plant(settings: Settings, logs: Path) -> Recording:
    await migrate(settings)
    workers = ProcessGroup(settings, logs)

    def start(*args: str) -> Worker:
        return workers.start(f"{args[0]}-{len(workers.processes)}", args)

    async def leave(worker: Worker) -> None:
        status = await worker.stopped(30.0)
        assert status == 0, f"{worker} exited with {status}:\n{worker.log_text()[-3000:]}"

    connection = await connect(settings)
    try:

        async def runs_with_enough() -> int:
            counts = await connection.fetch(
                "SELECT count(*) AS n FROM sensor_reading GROUP BY sensor_id, run_id"
            )
            return sum(row["n"] >= READINGS_PER_RUN for row in counts)

        async def at_least(runs: int) -> bool:
            return await runs_with_enough() >= runs

        start("coordinator")
        start("datamanager")
        solo = start(*sensor_args("solo"))
        pair = start("sensors", "--count", "2", "--freq", FREQ, "--prefix", "pair")
        await wait_for(lambda: at_least(3), what="readings of solo and of the gateway's two")
        await leave(solo)
        solo = start(*sensor_args("solo"))
        await wait_for(lambda: at_least(4), what="readings of solo's second run")
        await leave(solo)
        await leave(pair)

        async def all_stored() -> bool:
            # Told apart from the audit: each goodbye's seqs 1..last_seq, each stored once.
            settled = await connection.fetchval(
                """SELECT count(*) FROM run_report rep
                   WHERE (SELECT count(*) = rep.last_seq AND count(DISTINCT seq) = rep.last_seq
                          FROM sensor_reading r
                          WHERE r.sensor_id = rep.sensor_id AND r.run_id = rep.run_id)"""
            )
            return bool(settled == 4)

        await wait_for(all_stored, what="four goodbyes, each run stored in full")
        rows = await connection.fetch(
            """SELECT s.name AS sensor, rep.sensor_id, sr.run, rep.run_id, rep.last_seq
               FROM run_report rep
               JOIN sensor s ON s.id = rep.sensor_id JOIN source_run sr ON sr.id = rep.run_id
               ORDER BY s.name <> 'solo', rep.run_id, s.name"""
        )
        return Recording(settings, tuple(StoredRun(**row) for row in rows))
    except AssertionError as error:
        text = "\n".join(f"--- {w} ---\n{w.log_text()[-2000:]}" for w in workers.processes)
        raise AssertionError(f"{error}\n{text}") from None
    finally:
        await connection.close()
        await asyncio.to_thread(workers.stop_all)


# --- a case's own copy, and the damage done to it ----------------------------------------------


@dataclass
class Copy:
    """The recorded plant copied into this case's schema, to damage and audit."""

    settings: Settings
    db: asyncpg.Connection
    runs: tuple[StoredRun, ...]

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [run.key for run in self.runs]

    @property
    def solo_first(self) -> StoredRun:
        return self.runs[0]

    @property
    def solo_second(self) -> StoredRun:
        return self.runs[1]

    @property
    def pair(self) -> tuple[StoredRun, StoredRun]:
        return self.runs[2], self.runs[3]

    async def delete(self, run: StoredRun, first: int, last: int | None = None) -> None:
        """Lose the stored readings of seqs first..last of one run."""
        deleted = await self.db.execute(
            "DELETE FROM sensor_reading WHERE sensor_id = $1 AND run_id = $2 "
            "AND seq BETWEEN $3 AND $4",
            run.sensor_id,
            run.run_id,
            first,
            first if last is None else last,
        )
        assert deleted == f"DELETE {(first if last is None else last) - first + 1}"

    async def store_twice(self, run: StoredRun, seq: int) -> None:
        """Store one reading a second time, a microsecond later (a redelivery not deduplicated)."""
        inserted = await self.db.execute(
            """INSERT INTO sensor_reading (sensor_id, taken_on, value, run_id, seq)
               SELECT sensor_id, taken_on + interval '1 microsecond', value, run_id, seq
               FROM sensor_reading WHERE sensor_id = $1 AND run_id = $2 AND seq = $3""",
            run.sensor_id,
            run.run_id,
            seq,
        )
        assert inserted == "INSERT 0 1"

    async def taken_on(self, run: StoredRun, seq: int) -> datetime:
        moment = await self.db.fetchval(
            "SELECT taken_on FROM sensor_reading WHERE sensor_id = $1 AND run_id = $2 AND seq = $3",
            run.sensor_id,
            run.run_id,
            seq,
        )
        assert isinstance(moment, datetime)
        return moment

    async def stored(self) -> int:
        count = await self.db.fetchval("SELECT count(*) FROM sensor_reading")
        assert isinstance(count, int)
        return count

    async def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`controlroom-worker audit ARGS...` on this copy, as an operator runs it."""
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "workers.cli", "audit", *args],
            env={**os.environ, **self.settings.as_env()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    async def command_json(self, *args: str) -> dict[str, object]:
        result = await self.command("--json", *args)
        assert result.returncode in (0, 1), result.stderr
        document = orjson.loads(result.stdout)
        assert isinstance(document, dict)
        assert document["clean"] is (result.returncode == 0)
        return document


@pytest.fixture
async def plant(recording: Recording, settings: Settings, db: asyncpg.Connection) -> Copy:
    """This case's copy of the recorded plant (its schema comes fresh from `settings`)."""
    source = quote_ident(recording.settings.plant)
    async with db.transaction():
        await db.execute("DELETE FROM sensor")  # the reference sensors the migration adds
        for table in RUN_TABLES:
            await db.execute(
                f"INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {source}.{table}"
            )
    return Copy(settings, db, recording.runs)


def damage_seen(report: AuditReport) -> dict[tuple[str, str], tuple[int, int, Gaps]]:
    """(missing, duplicates, gaps) of every run the audit found anything wrong with."""
    return {
        (run.sensor, run.run): (run.missing, run.duplicates, run.gaps)
        for run in report.runs
        if run.missing or run.duplicates or run.gaps
    }


def audited_run(report: AuditReport, run: StoredRun) -> RunAudit:
    (found,) = [audited for audited in report.runs if (audited.sensor, audited.run) == run.key]
    return found


def bad_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("BAD")]


def summary(stored: int, missing: int = 0, duplicates: int = 0, dropped: int = 0) -> str:
    verdict = "clean" if missing == 0 and duplicates == 0 else "NOT CLEAN"
    return (
        f"audit {verdict} (every reading stored): 4 sensor runs, {stored} readings stored, "
        f"{missing} confirmed readings missing, {duplicates} duplicates, "
        f"{dropped} dropped by sensors before confirmation"
    )


def json_runs(document: dict[str, object]) -> dict[tuple[str, str], tuple[int, int, list[object]]]:
    runs = document["runs"]
    assert isinstance(runs, list)
    return {(r["sensor"], r["run"]): (r["missing"], r["duplicates"], r["gaps"]) for r in runs}


# --- the audit ---------------------------------------------------------------------------------


async def test_the_undamaged_plant_audits_clean(plant: Copy) -> None:
    report = await audit(plant.db)
    assert report.clean
    assert damage_seen(report) == {}
    assert sorted((run.sensor, run.run) for run in report.runs) == sorted(plant.keys)
    for stored_run in plant.runs:
        run = audited_run(report, stored_run)
        assert run.confirmed_seq == stored_run.last_seq >= READINGS_PER_RUN
        assert (run.expected_first, run.expected_last) == (1, stored_run.last_seq)
        assert run.stored == stored_run.last_seq
    stored = await plant.stored()
    assert report.stored == stored

    result = await plant.command()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [summary(stored)]

    document = await plant.command_json()
    assert document == {
        "clean": True,
        "since": None,
        "horizon": None,
        "stored": stored,
        "missing": 0,
        "duplicates": 0,
        "dropped": 0,
        "runs": [],
    }
    every_run = json_runs(await plant.command_json("--verbose"))
    assert every_run == {run.key: (0, 0, []) for run in plant.runs}


async def test_readings_deleted_mid_run_are_exactly_its_gaps(plant: Copy) -> None:
    damaged = plant.solo_first
    stored = await plant.stored()
    await plant.delete(damaged, 101, 110)
    await plant.delete(damaged, 150)

    report = await audit(plant.db)
    assert damage_seen(report) == {damaged.key: (11, 0, ((101, 110), (150, 150)))}
    assert (report.missing, report.duplicates, report.stored) == (11, 0, stored - 11)
    assert not report.clean

    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert line.startswith("BAD  solo ")
    assert (
        f"run {damaged.run[:8]}  seq 1-{damaged.last_seq}  stored {damaged.last_seq - 11}" in line
    )
    assert line.endswith("missing 11  dropped 0  duplicates 0  gaps 101-110, 150")
    assert result.stdout.splitlines()[-1] == summary(stored - 11, missing=11)


async def test_a_seq_stored_twice_is_exactly_one_duplicate(plant: Copy) -> None:
    damaged = plant.pair[0]
    stored = await plant.stored()
    await plant.store_twice(damaged, 50)

    report = await audit(plant.db)
    assert damage_seen(report) == {damaged.key: (0, 1, ())}
    assert (report.missing, report.duplicates, report.stored) == (0, 1, stored + 1)

    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert line.startswith(f"BAD  {damaged.sensor} ")
    assert line.endswith("missing 0  dropped 0  duplicates 1  gaps -")
    assert result.stdout.splitlines()[-1] == summary(stored + 1, duplicates=1)


async def test_readings_lost_before_the_goodbye_are_a_gap_up_to_its_seq(plant: Copy) -> None:
    damaged = plant.solo_second
    last = damaged.last_seq
    await plant.delete(damaged, last - 4, last)

    report = await audit(plant.db)
    assert damage_seen(report) == {damaged.key: (5, 0, ((last - 4, last),))}
    run = audited_run(report, damaged)
    assert (run.expected_last, run.confirmed_seq) == (last, last)

    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert f"run {damaged.run[:8]}  seq 1-{last}  stored {last - 5}  missing 5" in line
    assert line.endswith(f"gaps {last - 4}-{last}")


async def test_a_run_with_every_reading_lost_is_one_gap(plant: Copy) -> None:
    damaged = plant.pair[0]
    await plant.delete(damaged, 1, damaged.last_seq)
    report = await audit(plant.db)
    assert damage_seen(report) == {damaged.key: (damaged.last_seq, 0, ((1, damaged.last_seq),))}
    assert audited_run(report, damaged).stored == 0
    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert line.endswith(f"duplicates 0  gaps 1-{damaged.last_seq}")


async def test_a_lost_reading_and_a_duplicate_in_one_run_are_both_found(plant: Copy) -> None:
    """The run still holds as many rows as its goodbye's seq: a count alone would pass it."""
    damaged = plant.pair[1]
    await plant.delete(damaged, 60)
    await plant.store_twice(damaged, 61)

    report = await audit(plant.db)
    assert audited_run(report, damaged).stored == damaged.last_seq
    assert damage_seen(report) == {damaged.key: (1, 1, ((60, 60),))}
    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert line.endswith("missing 1  dropped 0  duplicates 1  gaps 60")


async def test_readings_the_sensor_dropped_explain_as_many_gaps(plant: Copy) -> None:
    """A goodbye reporting 5 readings dropped (its buffer overflowed) explains 5 missing."""
    damaged = plant.pair[0]
    await plant.db.execute(
        "UPDATE run_report SET dropped = 5 WHERE sensor_id = $1 AND run_id = $2",
        damaged.sensor_id,
        damaged.run_id,
    )
    await plant.delete(damaged, 101, 105)
    report = await audit(plant.db)
    assert report.clean
    assert (report.missing, report.dropped) == (0, 5)
    assert damage_seen(report) == {damaged.key: (5, 0, ((101, 105),))}
    result = await plant.command()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == summary(await plant.stored(), dropped=5)

    await plant.delete(damaged, 106)
    report = await audit(plant.db)
    assert not report.clean
    assert (report.missing, report.dropped) == (1, 5)
    document = await plant.command_json()
    assert (document["missing"], document["dropped"]) == (1, 5)
    assert json_runs(document) == {damaged.key: (6, 0, [[101, 106]])}


async def test_a_run_that_never_said_goodbye_is_checked_up_to_its_highest_seq(
    plant: Copy,
) -> None:
    """As after kill -9: without a goodbye the bound is the highest seq stored."""
    damaged = plant.pair[1]
    await plant.db.execute(
        "DELETE FROM run_report WHERE sensor_id = $1 AND run_id = $2",
        damaged.sensor_id,
        damaged.run_id,
    )
    await plant.delete(damaged, 101, 110)
    report = await audit(plant.db)
    assert damage_seen(report) == {damaged.key: (10, 0, ((101, 110),))}
    run = audited_run(report, damaged)
    assert (run.confirmed_seq, run.expected_last) == (None, damaged.last_seq)
    result = await plant.command()
    assert result.returncode == 1, result.stdout + result.stderr


# --- --since -----------------------------------------------------------------------------------


async def test_since_counts_only_the_damage_inside_the_window(plant: Copy) -> None:
    damaged = plant.solo_first
    since = await plant.taken_on(damaged, 100)
    await plant.delete(damaged, 40, 49)  # before the window
    await plant.store_twice(damaged, 30)
    await plant.delete(damaged, 120, 124)  # inside it
    await plant.store_twice(damaged, 150)

    everything = await audit(plant.db)
    assert damage_seen(everything) == {damaged.key: (15, 2, ((40, 49), (120, 124)))}
    window = await audit(plant.db, since)
    assert damage_seen(window) == {damaged.key: (5, 1, ((120, 124),))}
    run = audited_run(window, damaged)
    assert (run.expected_first, run.expected_last) == (100, damaged.last_seq)
    assert sorted((run.sensor, run.run) for run in window.runs) == sorted(plant.keys)

    result = await plant.command("--since", since.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert f"run {damaged.run[:8]}  seq 100-{damaged.last_seq}" in line
    assert line.endswith("missing 5  dropped 0  duplicates 1  gaps 120-124")

    # A window after all of the damage: clean, though the plant is not.
    after = await plant.taken_on(damaged, 151)
    assert damage_seen(await audit(plant.db, after)) == {}
    result = await plant.command("--since", after.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit clean" in result.stdout


async def test_since_finds_readings_lost_at_the_start_of_the_window(plant: Copy) -> None:
    """The first readings of the window are lost: the run resumes after its last one before."""
    damaged = plant.solo_first
    since = await plant.taken_on(damaged, 100)
    await plant.delete(damaged, 100, 104)

    report = await audit(plant.db, since)
    assert damage_seen(report) == {damaged.key: (5, 0, ((100, 104),))}
    assert audited_run(report, damaged).expected_first == 100
    result = await plant.command("--since", since.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = bad_lines(result.stdout)
    assert line.endswith("missing 5  dropped 0  duplicates 0  gaps 100-104")


async def test_since_finds_a_run_that_started_inside_the_window_without_its_first_readings(
    plant: Copy,
) -> None:
    damaged = plant.solo_second
    since = await plant.taken_on(damaged, 1) - timedelta(microseconds=1)
    await plant.delete(damaged, 1, 3)
    report = await audit(plant.db, since)
    assert damage_seen(report) == {damaged.key: (3, 0, ((1, 3),))}
    result = await plant.command("--since", since.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr


async def test_since_after_the_last_reading_but_before_the_goodbye_is_clean(plant: Copy) -> None:
    """The goodbye falls inside the window, every reading of its run before it: none missing."""
    last_taken = await plant.db.fetchval("SELECT max(taken_on) FROM sensor_reading")
    assert isinstance(last_taken, datetime)
    since = last_taken + timedelta(microseconds=1)
    ended_inside = await plant.db.fetchval(
        "SELECT count(*) FROM run_report WHERE ended_at >= $1", since
    )
    assert ended_inside, "the last goodbye is received after the last reading is taken"

    report = await audit(plant.db, since)
    assert len(report.runs) == ended_inside
    assert report.clean, damage_seen(report)
    assert all(run.stored == 0 and run.missing == 0 for run in report.runs)
    result = await plant.command("--since", since.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr


# --- --json ------------------------------------------------------------------------------------


async def test_json_lists_exactly_the_damaged_runs(plant: Copy) -> None:
    gapped, doubled = plant.solo_first, plant.solo_second
    stored = await plant.stored()
    await plant.delete(gapped, 101, 110)
    await plant.store_twice(doubled, 70)

    document = await plant.command_json()
    assert set(document) == {
        "clean",
        "since",
        "horizon",
        "stored",
        "missing",
        "duplicates",
        "dropped",
        "runs",
    }
    assert (document["clean"], document["stored"]) == (False, stored - 10 + 1)
    assert (document["missing"], document["duplicates"], document["dropped"]) == (10, 1, 0)
    assert json_runs(document) == {gapped.key: (10, 0, [[101, 110]]), doubled.key: (0, 1, [])}
    runs = document["runs"]
    assert isinstance(runs, list)
    by_key = {(run["sensor"], run["run"]): run for run in runs}
    assert by_key[gapped.key]["confirmed_seq"] == gapped.last_seq
    assert by_key[gapped.key]["expected_last"] == gapped.last_seq

    # Through --since: the window starts after the gap, so only the duplicate is left.
    since = await plant.taken_on(gapped, 120)
    document = await plant.command_json("--since", since.isoformat())
    assert (document["clean"], document["missing"], document["duplicates"]) == (False, 0, 1)
    assert json_runs(document) == {doubled.key: (0, 1, [])}


# --- the fault harness does not take the audit on trust ----------------------------------------


async def silent_audit(
    connection: asyncpg.Connection, since: datetime | None = None
) -> AuditReport:
    """A broken audit that always answers clean: the real one, with every problem erased."""
    report = await audit(connection, since)
    erased = [replace(run, missing=0, duplicates=0, gaps=()) for run in report.runs]
    return AuditReport(erased)


async def empty_audit(connection: asyncpg.Connection, since: datetime | None = None) -> AuditReport:
    """A broken audit that always answers clean by finding nothing to check."""
    return AuditReport([])


@pytest.fixture
async def fault_plant(
    plant: Copy, start_worker: Callable[..., Worker], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Plant]:
    """The fault cases' view of this case's copy (its failure message without the broker's)."""

    async def not_asked(self: Plant) -> str:
        return "broker state: not asked"

    monkeypatch.setattr(Plant, "broker_state", not_asked)
    judge = Plant(plant.settings, start_worker)
    try:
        yield judge
    finally:
        await judge.close()


async def test_the_fault_harness_accepts_the_undamaged_plant(fault_plant: Plant) -> None:
    report = await fault_plant.audited(reports=4, timeout=10)
    assert report.clean and len(report.runs) == 4


async def damage_mid_run(plant: Copy) -> StoredRun:
    await plant.delete(plant.solo_first, 101, 110)
    return plant.solo_first


async def damage_twice(plant: Copy) -> StoredRun:
    await plant.store_twice(plant.pair[0], 50)
    return plant.pair[0]


async def damage_count_kept(plant: Copy) -> StoredRun:
    await plant.delete(plant.pair[1], 60)
    await plant.store_twice(plant.pair[1], 61)
    return plant.pair[1]


async def damage_before_goodbye(plant: Copy) -> StoredRun:
    last = plant.solo_second.last_seq
    await plant.delete(plant.solo_second, last - 4, last)
    return plant.solo_second


@pytest.mark.parametrize(
    "damage", [damage_mid_run, damage_twice, damage_count_kept, damage_before_goodbye]
)
async def test_the_fault_harness_fails_a_damaged_plant_whatever_the_audit_says(
    plant: Copy,
    fault_plant: Plant,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Copy], Awaitable[StoredRun]],
) -> None:
    damaged = await damage(plant)
    assert not (await audit(plant.db)).clean
    assert (await silent_audit(plant.db)).clean, "the stub answers clean on this damage"
    monkeypatch.setattr(harness, "audit", silent_audit)
    with pytest.raises(AssertionError, match="the audit never got clean") as failed:
        await fault_plant.audited(reports=4, timeout=1)
    assert f"{damaged.sensor} run {damaged.run[:8]}: " in str(failed.value)


async def test_the_fault_harness_fails_damage_inside_a_window_whatever_the_audit_says(
    plant: Copy, fault_plant: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = plant.solo_first
    since = await plant.taken_on(damaged, 100)
    await plant.delete(damaged, 40, 49)
    monkeypatch.setattr(harness, "audit", silent_audit)
    assert (await fault_plant.audited(reports=4, since=since, timeout=10)).clean

    await plant.delete(damaged, 120, 124)
    with pytest.raises(AssertionError, match="5 seqs not stored, 0 dropped"):
        await fault_plant.audited(reports=4, since=since, timeout=1)


async def test_the_fault_harness_fails_an_audit_that_lists_nothing(
    fault_plant: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "audit", empty_audit)
    with pytest.raises(AssertionError, match="the audit does not list solo run"):
        await fault_plant.audited(reports=4, timeout=1)
