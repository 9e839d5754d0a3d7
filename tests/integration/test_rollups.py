"""Rollups against the real PostgreSQL: equal to a fresh computation from the raw readings
whatever the order readings arrive in, however often batches are redelivered and whenever the
refresh runs (a property test), and the refresh's own rules (closed minutes, the horizon)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controlroom.clock import datetime_to_us
from controlroom.config import Settings
from controlroom.db import connect, migrate
from controlroom.db.maintenance import maintain
from controlroom.db.migrations import drop_plant
from controlroom.db.partitions import aligned, partitions
from controlroom.db.rollups import GRACE, HOUR, MINUTE, refresh, touched_minutes
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import PersistBatch
from tests.conftest import new_plant_settings

# Readings over 70 minutes across an hour boundary, two hours ago (inside raw retention).
BASE = aligned(datetime.now(UTC) - 2 * HOUR, HOUR) - 5 * MINUTE
SPAN_MS = 70 * 60 * 1000
SENSORS = ("ra", "rb", "rc")
Reading = tuple[str, int, float]  # sensor, ms after BASE, value

ROLLUP = """
SELECT s.name, r.bucket, r.n, r.low, r.high, r.total, r.first_value, r.last_value
FROM {table} r JOIN sensor s ON s.id = r.sensor_id
"""


@dataclass(frozen=True, slots=True)
class Roll:
    n: int
    low: float
    high: float
    total: float
    first: float
    last: float


def expected(readings: list[Reading], width: timedelta) -> dict[tuple[str, datetime], Roll]:
    """The rollups computed afresh, in Python, from the distinct readings."""
    groups: dict[tuple[str, datetime], list[tuple[int, float]]] = {}
    for sensor, ms, value in readings:
        bucket = aligned(BASE + timedelta(milliseconds=ms), width)
        groups.setdefault((sensor, bucket), []).append((ms, value))
    found = {}
    for key, points in groups.items():
        points.sort()
        values = [value for _, value in points]
        found[key] = Roll(
            len(values), min(values), max(values), math.fsum(values), values[0], values[-1]
        )
    return found


async def stored(db: asyncpg.Connection, table: str) -> dict[tuple[str, datetime], Roll]:
    rows = await db.fetch(ROLLUP.format(table=table))
    return {(row["name"], row["bucket"]): Roll(*list(row.values())[2:]) for row in rows}


def mismatches(
    want: dict[tuple[str, datetime], Roll], got: dict[tuple[str, datetime], Roll]
) -> list[str]:
    """Every rollup that differs (a sum may differ in its last bits: summed in another order)."""
    wrong = [f"missing {key}" for key in want.keys() - got.keys()]
    wrong += [f"unexpected {key}" for key in got.keys() - want.keys()]
    for key in want.keys() & got.keys():
        a, b = want[key], got[key]
        same = (a.n, a.low, a.high, a.first, a.last) == (b.n, b.low, b.high, b.first, b.last)
        # Values up to 1e6 that cancel: a sum in another order may differ by far more than
        # its own ulp; 1e-6 bounds 120 roundings of 1e6.
        if not (same and math.isclose(a.total, b.total, rel_tol=1e-9, abs_tol=1e-6)):
            wrong.append(f"{key}: want {a}, got {b}")
    return wrong


def frame(readings: list[Reading], seq: Iterator[int]) -> Frame:
    return Frame(
        "rgw",
        "rollup-run",
        [sensor for sensor, _, _ in readings],
        [next(seq) for _ in readings],
        [datetime_to_us(BASE + timedelta(milliseconds=ms)) for _, ms, _ in readings],
        [value for _, _, value in readings],
    )


@pytest.fixture(scope="module")
def plant() -> Iterator[Settings]:
    """One plant for every example of the property (each starts from empty tables)."""
    plant = new_plant_settings()
    asyncio.run(migrate(plant))
    try:
        yield plant
    finally:
        asyncio.run(drop_plant(plant))


readings_strategy = st.lists(
    st.tuples(
        st.sampled_from(SENSORS),
        st.integers(0, SPAN_MS),
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=120,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readings=readings_strategy, data=st.data())
def test_rollups_equal_a_fresh_computation_whatever_the_arrival(
    plant: Settings, readings: list[Reading], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(readings), label="arrival order")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival)), max_size=6), label="cuts"))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)], strict=True)]
    batches = [batch for batch in batches if batch]
    # Redeliveries: some batches come again, later, whole.
    again = data.draw(st.lists(st.sampled_from(range(len(batches))), max_size=4), label="again")
    deliveries = list(batches)
    for index in again:
        deliveries.insert(data.draw(st.integers(0, len(deliveries))), batches[index])
    # Refreshes in between, each as if at some moment of the span (minutes closed by then).
    refreshes = data.draw(
        st.dictionaries(st.integers(0, len(deliveries)), st.integers(0, SPAN_MS), max_size=4),
        label="refreshes",
    )
    asyncio.run(_scenario(plant, readings, deliveries, refreshes))


async def _scenario(
    plant: Settings,
    readings: list[Reading],
    deliveries: list[list[Reading]],
    refreshes: dict[int, int],
) -> None:
    db = await connect(plant)
    try:
        await db.execute("TRUNCATE sensor_reading, reading_1m, reading_1h, rollup_dirty")
        writer = BatchWriter(db)
        await writer.prepare()
        for index, batch in enumerate(deliveries):
            if index in refreshes:
                await refresh(db, BASE + timedelta(milliseconds=refreshes[index]), wait=True)
            # A redelivered batch is the same readings with the same seqs.
            await writer.write(
                [PersistBatch(frames=[frame(batch, iter(range(1, 1 + len(batch))))])]
            )
        await refresh(db, datetime.now(UTC), wait=True)
        assert await db.fetchval("SELECT count(*) FROM sensor_reading") == len(readings)
        for table, width in (("reading_1m", MINUTE), ("reading_1h", HOUR)):
            wrong = mismatches(expected(readings, width), await stored(db, table))
            assert not wrong, f"{table}: " + "; ".join(wrong[:5])
    finally:
        await db.close()


async def write(db: asyncpg.Connection, readings: list[Reading], first_seq: int = 1) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    seqs = iter(range(first_seq, first_seq + len(readings)))
    await writer.write([PersistBatch(frames=[frame(readings, seqs)])])


def test_the_comparison_catches_a_wrong_rollup() -> None:
    readings: list[Reading] = [("ra", 1000, 1.0), ("ra", 2000, 3.0), ("rb", 1500, 2.0)]
    want = expected(readings, MINUTE)
    assert mismatches(want, dict(want)) == []
    key = next(iter(want))
    one = want[key]
    for wrong in (
        {**want, key: replace(one, n=one.n + 1)},
        {**want, key: replace(one, total=one.total + 1e-3)},
        {**want, key: replace(one, first=one.last, last=one.first)},
        {k: v for k, v in want.items() if k != key},
        {**want, ("rz", key[1]): one},
    ):
        assert mismatches(want, wrong)


async def test_an_open_minute_waits_and_a_late_reading_corrects_a_closed_one(
    db: asyncpg.Connection,
) -> None:
    await write(db, [("ra", 10_000, 1.0), ("ra", 70_000, 5.0)])
    # At 75 s: the first minute is closed (and GRACE gone), the second still open.
    report = await refresh(db, BASE + timedelta(seconds=60) + GRACE, wait=True)
    assert report is not None and report.minutes == 1
    rolled = await stored(db, "reading_1m")
    assert list(rolled.values()) == [Roll(1, 1.0, 1.0, 1.0, 1.0, 1.0)]
    # A late reading lands in the closed first minute, before its first value.
    await write(db, [("ra", 5_000, -2.0)], first_seq=10)
    assert (await refresh(db, datetime.now(UTC), wait=True)) is not None
    rolled = await stored(db, "reading_1m")
    assert rolled[("ra", BASE)] == Roll(2, -2.0, 1.0, -1.0, -2.0, 1.0)
    assert rolled[("ra", BASE + MINUTE)] == Roll(1, 5.0, 5.0, 5.0, 5.0, 5.0)
    hour = await stored(db, "reading_1h")
    assert hour[("ra", aligned(BASE, HOUR))] == Roll(3, -2.0, 5.0, 4.0, -2.0, 5.0)
    # Nothing dirty is left; a second refresh does nothing.
    again = await refresh(db, datetime.now(UTC), wait=True)
    assert again is not None and (again.minutes, again.hours) == (0, 0)


async def test_a_minute_before_the_raw_horizon_keeps_its_rollup(db: asyncpg.Connection) -> None:
    await write(db, [("ra", 10_000, 1.0), ("ra", 20_000, 2.0)])
    await refresh(db, datetime.now(UTC), wait=True)
    before = await stored(db, "reading_1m")
    # As if retention had dropped this minute's readings and one late reading came for it.
    await db.execute("UPDATE history_policy SET raw_horizon = $1", BASE + 10 * MINUTE)
    await db.execute("TRUNCATE sensor_reading")
    await write(db, [("ra", 30_000, 9.0)], first_seq=5)
    report = await refresh(db, datetime.now(UTC), wait=True)
    assert report is not None and report.minutes == 0
    assert await stored(db, "reading_1m") == before
    assert await db.fetchval("SELECT count(*) FROM rollup_dirty") == 0


async def test_maintenance_rolls_up_and_drops_old_rollup_partitions(
    db: asyncpg.Connection,
) -> None:
    await write(db, [("ra", 10_000, 1.0)])
    report = await maintain(db)
    assert (report.rolled_minutes, report.rolled_hours) == (1, 1)
    assert "1 minutes and 1 hours rolled up" in report.summary()
    made = {p.name.rsplit("_p", 1)[0] for p in report.made}
    assert made <= {"reading_1m", "reading_1h"}
    later = await maintain(db, datetime.now(UTC) + timedelta(days=400))
    dropped = {p.name.rsplit("_p", 1)[0] for p in later.dropped}
    # A year on: raw partitions and the 1-minute rollups' older weeks go, the hours stay.
    assert dropped == {"sensor_reading", "reading_1m"}
    assert await db.fetchval("SELECT count(*) FROM reading_1h") == 1


def test_touched_minutes_are_the_minutes_of_the_readings() -> None:
    us = 60_000_000
    assert touched_minutes(np.array([], dtype=np.int64)) == []
    assert touched_minutes(np.array([5 * us + 1, 5 * us + 2, 6 * us], dtype=np.int64)) == [5, 6]
    assert touched_minutes(np.array([90 * us, 3 * us, 90 * us + 5], dtype=np.int64)) == [3, 90]


_PKEY = """
SELECT c.reloptions, pg_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = $1 || '_pkey'
"""
# The heap pages one sensor's rows are on.
_PAGES = """
SELECT count(DISTINCT (ctid::text::point)[0]) FROM reading_1m WHERE sensor_id = 7
"""
# The partition's indexes, each attached to the parent's.
_INDEXES = """
SELECT ic.relname, pc.relname AS parent
FROM pg_index x
JOIN pg_class ic ON ic.oid = x.indexrelid
LEFT JOIN pg_inherits i ON i.inhrelid = x.indexrelid
LEFT JOIN pg_class pc ON pc.oid = i.inhparent
WHERE x.indrelid = $1::regclass
ORDER BY 1
"""
_CONTENT = """
SELECT count(*), md5(string_agg(r::text, ',' ORDER BY sensor_id, bucket)) FROM reading_1m r
"""


async def test_maintenance_packs_a_closed_rollup_partition_once(db: asyncpg.Connection) -> None:
    """Rows come in time order across sensors: one sensor's rows on a page each, the primary
    key's leaves half full. Once the partition is closed, `db maintain` rewrites it in key
    order, packed, the same rows, and only once."""
    week = (await partitions(db, "reading_1m"))[0]
    assert week.lower is not None
    await db.execute(
        """INSERT INTO reading_1m (sensor_id, n, bucket, low, high, total, first_value,
                                   last_value)
           SELECT s, 60, $1::timestamptz + m * interval '1 minute', 0, 1, m * s, 0, 1
           FROM generate_series(0, 299) m CROSS JOIN generate_series(1, 300) s
           ORDER BY m, s""",
        week.lower,
    )
    content = await db.fetchrow(_CONTENT)
    indexes = [tuple(row) for row in await db.fetch(_INDEXES, week.name)]
    assert [parent for _, parent in indexes] == ["reading_1m_bucket", "reading_1m_pkey"]
    loose = await db.fetchrow(_PKEY, week.name)
    assert loose["reloptions"] is None
    assert await db.fetchval(_PAGES) == 300
    # While the week is open nothing is packed.
    still_open = await maintain(db, week.upper - timedelta(minutes=1), retention=False)
    assert still_open.packed == []
    report = await maintain(db, week.upper + 2 * HOUR, retention=False)
    assert [p.name for p in report.packed] == [week.name]
    assert "1 closed rollup partitions packed" in report.summary()
    packed = await db.fetchrow(_PKEY, week.name)
    assert packed["reloptions"] == ["fillfactor=100"]
    assert packed["bytes"] < 0.8 * loose["bytes"]
    assert await db.fetchval(_PAGES) <= 4
    assert await db.fetchrow(_CONTENT) == content
    assert [tuple(row) for row in await db.fetch(_INDEXES, week.name)] == indexes
    assert (await partitions(db, "reading_1m"))[0] == week
    # The old copy was dropped after the swap, not left behind.
    assert await db.fetchval("SELECT to_regclass($1)", f"{week.name}_expired") is None
    again = await maintain(db, week.upper + 3 * HOUR, retention=False)
    assert again.packed == []
