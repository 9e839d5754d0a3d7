"""Time partitions of sensor_reading against the real PostgreSQL: made ahead, strays adopted,
retention by dropping partitions (never DELETE), the audit over the retained window, and the
migration of a plant whose readings table was not partitioned."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from controlroom.clock import datetime_to_us
from controlroom.config import Settings
from controlroom.db import connect, migrate
from controlroom.db.audit import audit
from controlroom.db.maintenance import maintain
from controlroom.db.migrations import drop_plant
from controlroom.db.partitions import DEFAULT_PARTITION, drop_expired, partitions, raw_series
from controlroom.db.policy import change_policy, load_policy
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import PersistBatch
from tests.conftest import new_plant_settings
from tests.support import Worker, wait_for
from workers.audit import format_report

DAY = timedelta(days=1)


def frame(run: str, seqs: range, times: list[datetime], names: tuple[str, ...] = ("p1",)) -> Frame:
    """One reading per name per seq, at the given times (one per seq)."""
    sensors, seq_column, taken, values = [], [], [], []
    for seq, moment in zip(seqs, times, strict=True):
        for name in names:
            sensors.append(name)
            seq_column.append(seq)
            taken.append(datetime_to_us(moment))
            values.append(float(seq))
    return Frame("pgw", run, sensors, seq_column, taken, values)


async def store(db: asyncpg.Connection, *frames: Frame) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    await writer.write([PersistBatch(frames=list(frames))])


async def count_in(db: asyncpg.Connection, table: str) -> int:
    value = await db.fetchval(f"SELECT count(*) FROM {table}")
    assert isinstance(value, int)
    return value


async def where_stored(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT tableoid::regclass::text AS part, count(*) AS n FROM sensor_reading GROUP BY 1"
    )
    return {row["part"].rpartition(".")[2]: row["n"] for row in rows}


async def test_a_migrated_plant_has_partitions_from_today_to_the_premake(
    db: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    found = await partitions(db)
    policy = await load_policy(db)
    assert found[0].lower is not None and found[0].lower <= now < found[0].upper
    assert found[-1].upper >= now + policy.premake
    assert all(a.upper == b.lower for a, b in itertools.pairwise(found))
    # Today's readings land in today's partition, not the default one.
    await store(db, frame("r1", range(1, 4), [now - timedelta(seconds=s) for s in (3, 2, 1)]))
    assert await where_stored(db) == {found[0].name: 3}
    # A second round has nothing left to do.
    again = await maintain(db)
    assert (again.ran, again.made, again.moved, again.dropped) == (True, [], 0, [])


async def test_a_reading_no_partition_covers_is_kept_then_adopted(db: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    old = now - 10 * DAY
    await store(db, frame("r1", range(1, 3), [old, old + timedelta(seconds=1)]))
    await store(db, frame("r1", range(3, 5), [now - timedelta(seconds=2), now]))
    assert await count_in(db, DEFAULT_PARTITION) == 2
    report = await maintain(db)
    assert report.moved == 2
    assert await count_in(db, DEFAULT_PARTITION) == 0
    assert await count_in(db, "sensor_reading") == 4
    adopted = [p for p in await partitions(db) if p.lower is not None and p.lower <= old]
    assert len(adopted) == 1 and old < adopted[0].upper
    assert (await where_stored(db))[adopted[0].name] == 2
    assert (await audit(db)).clean
    assert (await maintain(db)).moved == 0


async def test_retention_drops_whole_partitions_and_the_audit_covers_what_is_kept(
    db: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    # One run whose first 50 readings are 40 days old, the next 50 from the last minute.
    early = [now - 40 * DAY + timedelta(seconds=n) for n in range(50)]
    late = [now - timedelta(seconds=60 - n) for n in range(50)]
    await store(db, frame("r1", range(1, 101), early + late, names=("p1", "p2")))
    await store(db, frame("r2", range(1, 11), [t + timedelta(seconds=0.5) for t in late[:10]]))
    before = await maintain(db, retention=False)
    assert before.moved == 100

    report = await maintain(db)
    assert [p.upper for p in report.dropped] == [before_horizon := report.dropped[0].upper]
    assert before_horizon <= now - 30 * DAY
    assert await count_in(db, "sensor_reading") == 110
    policy = await load_policy(db)
    assert policy.raw_horizon == before_horizon
    stored = await audit(db)
    assert stored.clean, format_report(stored, verbose=True)
    assert stored.since == before_horizon and stored.horizon == before_horizon
    assert {(run.sensor, run.expected_first, run.expected_last) for run in stored.runs} == {
        ("p1", 51, 100),
        ("p2", 51, 100),
        ("p1", 1, 10),
    }
    assert "the retained window" in format_report(stored, verbose=False)
    # A reading lost just inside the retained window is still caught.
    await db.execute("DELETE FROM sensor_reading WHERE seq = 51 AND run_id = 1")
    damaged = await audit(db)
    assert not damaged.clean and damaged.missing == 2
    # An earlier `since` is the horizon all the same: nothing older is there to audit.
    assert (await audit(db, now - 365 * DAY)).since == before_horizon
    assert (await maintain(db)).dropped == []


async def store_old_then_now(
    db: asyncpg.Connection, count: int, age: timedelta, step: timedelta
) -> datetime:
    """Run r1: `count` readings `step` apart from `age` ago, then two from just now; returns
    now."""
    now = datetime.now(UTC)
    await store(db, frame("r1", range(1, count + 1), [now - age + step * n for n in range(count)]))
    await store(db, frame("r1", range(count + 1, count + 3), [now - timedelta(seconds=2), now]))
    return now


async def noted_last_seq(db: asyncpg.Connection) -> dict[int, int]:
    rows = await db.fetch("SELECT sensor_id, last_seq FROM raw_partition_horizon")
    return {row["sensor_id"]: row["last_seq"] for row in rows}


@pytest.mark.parametrize("refreshed", [True, False], ids=["refreshed", "still-dirty"])
async def test_a_late_reading_in_a_noted_partition_voids_its_note(
    db: asyncpg.Connection, refreshed: bool
) -> None:
    now = datetime.now(UTC)
    early = [now - 40 * DAY + timedelta(seconds=n) for n in range(50)]
    late = [now - timedelta(seconds=60 - n) for n in range(50)]
    # Seq 50 of the run is late: the partition is closed and noted without it.
    await store(db, frame("r1", range(1, 50), early[:49]))
    await store(db, frame("r1", range(51, 101), late))
    first = await maintain(db, retention=False)
    [closed] = [p for p in first.noted if p.upper <= now - 30 * DAY]
    assert list((await noted_last_seq(db)).values()) == [49]
    assert (await maintain(db, retention=False)).noted == []  # noted once
    await store(db, frame("r1", range(50, 51), [early[49]]))
    if refreshed:
        dropped = (await maintain(db)).dropped  # its refresh voids the note, then the drop
    else:
        # The drop comes before any refresh: the minute still waiting voids the note.
        dropped = await drop_expired(db, raw_series(await load_policy(db)), now)
    assert [p.name for p in dropped] == [closed.name]
    # A drop that trusted the note would leave seq 50 for the audit to miss.
    assert await db.fetchval("SELECT last_seq FROM reading_horizon") == 50
    assert await count_in(db, "raw_partition_note") == 0
    stored = await audit(db)
    assert stored.clean, format_report(stored, verbose=True)
    assert [(run.expected_first, run.expected_last) for run in stored.runs] == [(51, 100)]


async def test_a_drop_takes_a_valid_note_without_reading_the_partition(
    db: asyncpg.Connection,
) -> None:
    await store_old_then_now(db, 10, 40 * DAY, timedelta(seconds=1))
    await maintain(db, retention=False)
    # The note, not the partition, says where the run resumes: change it and the drop follows.
    await db.execute("UPDATE raw_partition_horizon SET last_seq = 7")
    assert len((await maintain(db)).dropped) == 1
    assert await db.fetchval("SELECT last_seq FROM reading_horizon") == 7
    damaged = await audit(db)
    assert not damaged.clean and damaged.missing == 3  # seqs 8-10 "lost": the audit says so


async def test_a_drop_detaches_first_and_removes_what_an_earlier_round_left(
    db: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    await store(db, frame("r1", range(1, 3), [now - 40 * DAY, now]))
    await maintain(db, retention=False)
    # A round that stopped between detaching a partition and removing it left this behind.
    await db.execute("CREATE TABLE sensor_reading_p20000101_0000_expired (LIKE sensor_reading)")
    await db.execute("CREATE TABLE sensor_reading_pending_expired (LIKE sensor_reading)")
    [dropped] = (await maintain(db)).dropped
    names = {
        row["relname"]
        for row in await db.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        )
    }
    assert dropped.name not in names and dropped.name + "_expired" not in names
    assert "sensor_reading_p20000101_0000_expired" not in names
    assert "sensor_reading_pending_expired" in names  # only a detached partition's name goes
    assert await count_in(db, "sensor_reading") == 1


async def test_a_closed_partitions_key_is_rebuilt_once_and_a_failed_build_cleared(
    db: asyncpg.Connection,
) -> None:
    now = await store_old_then_now(db, 40, 3 * DAY, timedelta(minutes=1))
    first = await maintain(db, retention=False)  # adopted into a partition of its own
    [closed] = [p for p in await partitions(db) if p.upper <= now - DAY]
    assert [p.name for p in first.rekeyed] == [closed.name]
    # As if that round had failed half way: no mark, and an invalid copy left behind (here a
    # unique index the rows break).
    key_name = await db.fetchval(
        "SELECT indexrelid::regclass::text FROM pg_index"
        " WHERE indrelid = $1::regclass AND indisprimary",
        closed.name,
    )
    await db.execute(f"ALTER INDEX {key_name} RESET (fillfactor)")
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(f"CREATE UNIQUE INDEX CONCURRENTLY broken ON {closed.name} (run_id)")
    report = await maintain(db, retention=False)
    assert [p.name for p in report.rekeyed] == [closed.name]
    indexes = await db.fetch(
        """SELECT ic.relname, x.indisvalid, x.indisprimary, ic.reloptions
           FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
           WHERE x.indrelid = $1::regclass""",
        closed.name,
    )
    assert "broken" not in {row["relname"] for row in indexes}
    [key] = [row for row in indexes if row["indisprimary"]]
    assert key["indisvalid"] and key["reloptions"] == ["fillfactor=100"]
    assert (await maintain(db, retention=False)).rekeyed == []  # once
    # Still the key: a reading stored again is not stored twice, and the audit is clean.
    await store(db, frame("r1", range(1, 2), [now - 3 * DAY]))
    assert await count_in(db, "sensor_reading") == 42
    assert (await audit(db)).clean


async def test_a_drop_gives_way_to_a_reader_and_ingest_does_not_wait(
    settings: Settings, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await store(db, frame("r1", range(1, 3), [now - 40 * DAY, now]))
    await maintain(db, retention=False)
    reader, writer = await connect(settings), await connect(settings)
    try:
        async with reader.transaction():
            await reader.fetchval("SELECT count(*) FROM sensor_reading")  # holds its lock
            dropping = asyncio.create_task(maintain(db))

            async def wrote() -> bool:
                await store(writer, frame("r1", range(3, 4), [datetime.now(UTC)]))
                return True

            # Ingest goes on while the drop waits for the reader (the drop gives up in turns).
            started = asyncio.get_running_loop().time()
            assert await asyncio.wait_for(wrote(), 5.0)
            assert asyncio.get_running_loop().time() - started < 1.0
            report = await dropping
        assert report.dropped == []
        assert len(await partitions(db)) == len(await partitions(writer))
        # Once the reader is gone, the next round drops it.
        assert len((await maintain(db)).dropped) == 1
    finally:
        await reader.close()
        await writer.close()


async def test_hourly_partitions_take_readings_across_their_boundaries(
    db: asyncpg.Connection,
) -> None:
    # After the daily partitions made at migration come hourly ones (the interval changed).
    daily_end = (await partitions(db))[-1].upper
    await change_policy(db, partition_interval=timedelta(hours=1), premake=timedelta(days=5))
    made = (await maintain(db)).made
    assert made[0].lower == daily_end
    assert all(p.lower and p.upper - p.lower == timedelta(hours=1) for p in made)
    # Readings every 10 minutes for two hours from there: the last daily partition and two
    # hourly ones.
    times = [daily_end - timedelta(minutes=5) + timedelta(minutes=10 * n) for n in range(13)]
    await store(db, frame("r1", range(1, 14), times))
    spread = await where_stored(db)
    assert spread == {
        (await partitions(db))[-len(made) - 1].name: 1,
        made[0].name: 6,
        made[1].name: 6,
    }
    assert (await audit(db)).clean


async def test_an_unpartitioned_plant_is_migrated_without_losing_a_reading() -> None:
    settings = new_plant_settings()
    try:
        await migrate(settings, upto=2)
        connection = await connect(settings)
        try:
            now = datetime.now(UTC)
            old = [now - 45 * DAY + timedelta(seconds=n) for n in range(20)]
            recent = [now - timedelta(seconds=30 - n) for n in range(20)]
            await store(connection, frame("r1", range(1, 41), old + recent, names=("m1", "m2")))
            assert await connection.fetchval("SELECT to_regclass('history_policy')") is None
            before = await connection.fetch("SELECT * FROM sensor_reading ORDER BY 1, 2")
            await migrate(settings)
            after = await connection.fetch("SELECT * FROM sensor_reading ORDER BY 1, 2")
            assert after == before and len(after) == 80
            assert (
                await connection.fetchval(
                    "SELECT relkind::text FROM pg_class WHERE oid = 'sensor_reading'::regclass"
                )
                == "p"
            )
            assert set(await where_stored(connection)) == {"sensor_reading_legacy"}
            assert (await audit(connection)).clean
            # New readings go into the new partitions; retention drops the old table whole.
            tomorrow = (await partitions(connection))[1]
            assert tomorrow.lower is not None
            await store(connection, frame("r1", range(41, 42), [tomorrow.lower], names=("m1",)))
            assert (await where_stored(connection))[tomorrow.name] == 1
            report = await maintain(connection, now + 31 * DAY)
            assert "sensor_reading_legacy" in {p.name for p in report.dropped}
            assert await count_in(connection, "sensor_reading") == 1
            assert (await audit(connection)).clean
        finally:
            await connection.close()
    finally:
        await drop_plant(settings)


def maintain_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "db", "maintain", *args],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_db_maintain_stores_its_settings_and_refuses_bad_ones(
    settings: Settings, db: asyncpg.Connection
) -> None:
    result = await asyncio.to_thread(
        maintain_command, settings, "--partition-interval", "6h", "--raw-retention", "7d"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("maintenance: 0 partitions made ahead")
    policy = await load_policy(db)
    assert (policy.partition_interval, policy.raw_retention) == (
        timedelta(hours=6),
        timedelta(days=7),
    )
    for flags, text in [
        (("--raw-retention", "7 days"), "--raw-retention '7 days' is not a span"),
        (("--partition-interval", "7m"), "must divide a day"),
        (("--premake", "2000d"), "more than 1000"),
    ]:
        bad = await asyncio.to_thread(maintain_command, settings, *flags)
        assert bad.returncode == 2, bad.stderr
        (line,) = bad.stderr.strip().splitlines()
        assert text in line
    assert await load_policy(db) == policy


async def test_the_datamanager_runs_maintenance_on_its_schedule(
    db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    now = datetime.now(UTC)
    await store(db, frame("r1", range(1, 3), [now - 5 * DAY, now]))
    assert await count_in(db, DEFAULT_PARTITION) == 1
    start_worker("datamanager", "--maintain-every", "1")

    async def adopted() -> bool:
        return await count_in(db, DEFAULT_PARTITION) == 0

    await wait_for(adopted, what="the datamanager's maintenance to adopt the stray reading")
    assert await count_in(db, "sensor_reading") == 2


@pytest.mark.parametrize("span", ["-1", "0.5", "90000"])
def test_a_bad_maintenance_schedule_is_one_line(span: str) -> None:
    settings = Settings(plant="t_unused")
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", "datamanager", "--maintain-every", span],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--maintain-every must be" in result.stderr.strip()
