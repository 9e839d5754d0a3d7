"""Rollups per sensor at 1 minute and 1 hour (count, min, max, mean, first and last value).

Why recompute rather than add up as readings arrive: an upsert per sensor and minute in every
transaction would cost the writer a row update for every two readings at 10 Hz, and a
redelivered or late reading would need care not to count twice. Instead a writer notes, in the
same transaction as its readings, which minutes it touched (`mark_dirty`: one row per minute,
into a table with no key, so no writer waits on another), and `refresh` takes the minutes that
are closed (GRACE after their end) and recomputes them from the raw readings, then their hours
from the minutes. A recompute is exact whatever the order readings came in and however often
they were redelivered; a late reading dirties its minute again and the next refresh corrects
it. The dirty rows are taken and the rollups written in one transaction, and the recompute
reads after the take: a writer not yet committed left its dirty row for the next round. A
minute taken inside a raw partition already noted for retention voids that note
(partitions.note_closed): the late reading may be its sensor's last.

A minute older than the raw horizon (its readings dropped by retention) is never recomputed:
its rollup is what remains of it.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import numpy as np
import numpy.typing as npt

from controlroom.db.partitions import EPOCH, Series, aligned
from controlroom.db.policy import HistoryPolicy

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
GRACE = timedelta(seconds=5)  # a minute is rolled up this long after it ended
MINUTES_PER_TRANSACTION = 240  # a backfill goes in steps, each its own transaction
_US_PER_MINUTE = 60_000_000

_MARK = """
INSERT INTO rollup_dirty (minute)
SELECT timestamptz '2000-01-01 00:00+00' + m * interval '1 minute' FROM unnest($1::int8[]) m
"""

# A BRIN index only narrows a scan over the ranges it has summarized; new rows are in ranges
# it has not, which a scan reads whole. So each refresh summarizes what came since the last,
# through the owner's function (sql/030): only an index's owner may summarize it.
_SUMMARIZE = "SELECT summarize_new_ranges()"

_TAKE = """
SELECT DISTINCT minute FROM rollup_dirty WHERE minute + interval '1 minute' <= $1
ORDER BY 1 LIMIT $2
"""

_FIRST_LAST = """
(min(ARRAY[date_part('epoch', {at}), {first}]))[2],
(max(ARRAY[date_part('epoch', {at}), {last}]))[2]
"""

_UPSERT = """
ON CONFLICT (sensor_id, bucket) DO UPDATE SET
    n = excluded.n, low = excluded.low, high = excluded.high, total = excluded.total,
    first_value = excluded.first_value, last_value = excluded.last_value
WHERE ({table}.n, {table}.low, {table}.high, {table}.total, {table}.first_value,
       {table}.last_value)
      IS DISTINCT FROM
      (excluded.n, excluded.low, excluded.high, excluded.total, excluded.first_value,
       excluded.last_value)
"""

# First and last values are looked up by the primary key (two probes per sensor and minute):
# an ordered or array aggregate over every reading cost three times as much (measured).
_MINUTES = f"""
INSERT INTO reading_1m (sensor_id, n, bucket, low, high, total, first_value, last_value)
SELECT a.sensor_id, a.n, a.bucket, a.low, a.high, a.total,
       (SELECT value FROM sensor_reading r WHERE r.sensor_id = a.sensor_id AND r.taken_on = a.t0),
       (SELECT value FROM sensor_reading r WHERE r.sensor_id = a.sensor_id AND r.taken_on = a.t1)
FROM (SELECT sensor_id, count(*) AS n, date_bin('1 minute', taken_on, $3) AS bucket,
             min(value) AS low, max(value) AS high, sum(value) AS total,
             min(taken_on) AS t0, max(taken_on) AS t1
      FROM sensor_reading
      WHERE taken_on >= $1 AND taken_on < $2
      GROUP BY sensor_id, 3) a
{_UPSERT.format(table="reading_1m")}
"""

_HOURS = f"""
INSERT INTO reading_1h (sensor_id, n, bucket, low, high, total, first_value, last_value)
SELECT sensor_id, sum(n)::integer, date_bin('1 hour', bucket, $3), min(low), max(high),
       sum(total), {_FIRST_LAST.format(at="bucket", first="first_value", last="last_value")}
FROM reading_1m
WHERE bucket >= $1 AND bucket < $2
GROUP BY sensor_id, 3
{_UPSERT.format(table="reading_1h")}
"""


# A late reading in a raw partition already noted for retention may be its sensor's last: the
# note is void, and the drop reads the partition (partitions.note_closed).
_VOID_NOTES = """
DELETE FROM raw_partition_note n
WHERE EXISTS (SELECT 1 FROM unnest($1::timestamptz[]) m
              WHERE (n.lower_bound IS NULL OR m >= n.lower_bound) AND m < n.upper_bound)
"""


def rollup_series(policy: HistoryPolicy) -> list[Series]:
    """The rollup tables as partitioned series: a week of minutes, a quarter of hours each."""
    week, quarter = timedelta(days=7), timedelta(days=91)
    return [
        Series("reading_1m", "bucket", week, 2 * week, policy.minute_retention),
        Series("reading_1h", "bucket", quarter, 2 * quarter, policy.hour_retention),
    ]


def touched_minutes(taken_on_since_2000_us: npt.NDArray[np.int64]) -> list[int]:
    """The minutes (counted from 2000-01-01) that readings taken at these times fall in."""
    if not len(taken_on_since_2000_us):
        return []
    minutes = taken_on_since_2000_us // _US_PER_MINUTE
    low, high = int(minutes.min()), int(minutes.max())
    if high - low < 4:  # the usual batch: a tick or a few, one or two minutes
        return list(range(low, high + 1))
    return [int(m) for m in np.unique(minutes)]


async def mark_dirty(connection: asyncpg.Connection, minutes: list[int]) -> None:
    """Note, in the writer's transaction, the minutes whose rollups its readings change."""
    if minutes:
        await connection.execute(_MARK, minutes)


def runs(moments: Iterable[datetime], step: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Contiguous [start, end) ranges of aligned moments, `step` apart."""
    start = end = None
    for moment in moments:
        if end is not None and moment == end:
            end = moment + step
            continue
        if start is not None and end is not None:
            yield start, end
        start, end = moment, moment + step
    if start is not None and end is not None:
        yield start, end


@dataclass(slots=True)
class RefreshReport:
    minutes: int = 0
    hours: int = 0


def lock_key(schema: str) -> int:
    return 0x726F_0000_0000 | zlib.crc32(schema.encode())


async def refresh(
    connection: asyncpg.Connection, now: datetime | None = None, *, wait: bool = False
) -> RefreshReport | None:
    """Recompute every closed dirty minute and its hour; None if another refresh is running."""
    key = lock_key(await connection.fetchval("SELECT current_schema()"))
    if wait:
        await connection.execute("SELECT pg_advisory_lock($1)", key)
    elif not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
        return None
    try:
        moment = now or await connection.fetchval("SELECT now()")
        horizon = await connection.fetchval("SELECT raw_horizon FROM history_policy")
        report = RefreshReport()
        await connection.fetchval(_SUMMARIZE)
        while True:
            step = await _refresh_step(connection, moment - GRACE, horizon)
            if step is None:
                return report
            report.minutes += step.minutes
            report.hours += step.hours
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", key)


async def _refresh_step(
    connection: asyncpg.Connection, closed_before: datetime, horizon: datetime | None
) -> RefreshReport | None:
    """Up to MINUTES_PER_TRANSACTION dirty minutes that ended by `closed_before`, in one go."""
    async with connection.transaction():
        taken = [
            row["minute"]
            for row in await connection.fetch(_TAKE, closed_before, MINUTES_PER_TRANSACTION)
        ]
        if not taken:
            return None
        await connection.execute("DELETE FROM rollup_dirty WHERE minute = any($1)", taken)
        await connection.execute(_VOID_NOTES, taken)
        minutes = [m for m in taken if horizon is None or m >= horizon]
        for start, end in runs(minutes, MINUTE):
            await connection.execute(_MINUTES, start, end, EPOCH)
        hours = sorted({aligned(m, HOUR) for m in minutes})
        for start, end in runs(hours, HOUR):
            await connection.execute(_HOURS, start, end, EPOCH)
        return RefreshReport(len(minutes), len(hours))
