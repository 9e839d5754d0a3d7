"""The time partitions of sensor_reading: made ahead, strays adopted, expired ones dropped.

Why each step takes the locks it does (ingest must never wait on maintenance):
- a partition is made as a plain table and then ATTACHed, which needs only SHARE UPDATE
  EXCLUSIVE on sensor_reading (COPY goes on) where CREATE TABLE ... PARTITION OF would take
  ACCESS EXCLUSIVE; ATTACH checks the default partition, which is empty or nearly;
- readings in the default partition (none covered their time when they came) are moved into
  a partition made for them, in one transaction, so none is lost or stored twice;
- dropping a partition does need ACCESS EXCLUSIVE on sensor_reading for a moment (to detach
  it; its files are removed afterwards, by a DROP of the detached table), so it runs
  with a short lock_timeout and tries again: a long reader (an export, an audit) makes the drop
  wait for the next round instead of making ingest wait behind the drop. Before it goes, each
  sensor run's last seq in it is kept (reading_horizon), so the audit knows where a run resumes.
  That is read from the partition once it is closed, while its pages are still in memory
  (`note_closed`, sql/041), so the drop a month later reads nothing of it; a late reading that
  lands in a noted partition voids the note (rollups.refresh) and the drop reads it again;
- a closed rollup partition is rewritten once in primary key order, packed full (`pack_closed`):
  rows arrive in time order across sensors, so a sensor's year of hours sat on 8,760 heap
  pages (a 1 y chart read them all) and every insert landed in the middle of the primary key
  (sensor_id, bucket), whose leaves split half full. The copy is made while the old partition
  is held in SHARE mode (readers go on, a late write waits, none is lost) and swapped in like a
  drop: a short lock_timeout, tried again. The key's fillfactor 100 marks it done. Of a closed
  raw partition only the key is rebuilt (`_rebuild_key`): its leaves split half full too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from controlroom.db.connection import quote_ident
from controlroom.db.policy import HistoryPolicy, advance_horizon

log = logging.getLogger(__name__)

TABLE = "sensor_reading"
DEFAULT_PARTITION = "sensor_reading_default"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # partitions are aligned to it (UTC midnights)
DROP_LOCK_TIMEOUT = "200ms"
DROP_ATTEMPTS = 5
# A partition is closed (nothing but a rare late reading still changes it) this long after its end.
CLOSED_AFTER = timedelta(hours=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)

_BOUND = re.compile(r"FOR VALUES FROM \((MINVALUE|'[^']*')\) TO \((MAXVALUE|'[^']*')\)")

_PARTITIONS = """
SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = (quote_ident(current_schema()) || '.' || $1)::regclass
"""


@dataclass(frozen=True, slots=True)
class Series:
    """A table partitioned by range of one time column, and how its partitions are kept."""

    table: str
    column: str
    interval: timedelta
    premake: timedelta
    retention: timedelta
    raw: bool = False  # sensor_reading: a drop records where each run resumes (the audit)

    @property
    def default(self) -> str:
        return f"{self.table}_default"


def raw_series(policy: HistoryPolicy) -> Series:
    return Series(
        TABLE,
        "taken_on",
        policy.partition_interval,
        policy.premake,
        policy.raw_retention,
        raw=True,
    )


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    """One range partition: [lower, upper); None is MINVALUE (a migrated plant's old table)."""

    lower: datetime | None
    upper: datetime
    name: str


@dataclass(frozen=True, slots=True, order=True)
class Dropped(Partition):
    """A partition retention dropped, and what it took: the detach (the parent locked, ingest
    waiting) and the removal of its files afterwards (nobody waiting)."""

    detach_s: float = 0.0
    files_s: float = 0.0
    from_note: bool = False  # a raw partition's horizon came from its note, not from reading it


def partition_name(lower: datetime, table: str = TABLE) -> str:
    return f"{table}_p{lower.astimezone(UTC):%Y%m%d_%H%M}"


def aligned(moment: datetime, interval: timedelta) -> datetime:
    """The start of the partition interval that holds `moment` (as date_bin from 2000-01-01)."""
    return moment - (moment - EPOCH) % interval


def _bound(text: str) -> datetime | None:
    if text in ("MINVALUE", "MAXVALUE"):
        return None
    return datetime.fromisoformat(text.strip("'")).astimezone(UTC)


async def partitions(connection: asyncpg.Connection, table: str = TABLE) -> list[Partition]:
    """The range partitions, oldest first (the default partition is not among them)."""
    found = []
    for row in await connection.fetch(_PARTITIONS, table):
        match = _BOUND.fullmatch(row["bound"])
        if match is None:
            continue  # DEFAULT
        upper = _bound(match[2])
        if upper is None:
            raise RuntimeError(f"partition {row['name']} has no upper bound")
        found.append(Partition(_bound(match[1]), upper, row["name"]))
    return sorted(found, key=lambda p: p.upper)


def planned(existing: list[Partition], series: Series, now: datetime) -> list[Partition]:
    """The partitions to make so that [now, now + premake) is covered, after the newest one."""
    interval = series.interval
    newest = existing[-1].upper if existing else None
    start = aligned(now, interval)
    if newest is not None and newest > start:
        start = newest
    wanted = []
    while start < now + series.premake:
        upper = aligned(start, interval) + interval
        wanted.append(Partition(start, upper, partition_name(start, series.table)))
        start = upper
    return wanted


async def _create_and_attach(
    connection: asyncpg.Connection, series: Series, partition: Partition, *, moving_strays: bool
) -> int:
    """Make the partition and attach it; with `moving_strays`, take its readings from the
    default partition first. Returns the readings moved."""
    assert partition.lower is not None
    name = quote_ident(partition.name)
    moved = 0
    async with connection.transaction():
        table, column = series.table, series.column
        await connection.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
        if moving_strays:
            status = await connection.execute(
                f"""WITH moved AS (
                        DELETE FROM {series.default}
                        WHERE {column} >= $1 AND {column} < $2 RETURNING *)
                    INSERT INTO {name} SELECT * FROM moved""",
                partition.lower,
                partition.upper,
            )
            moved = int(status.split()[-1])
        # The CHECK spares ATTACH a scan of the new table; it has served once attached.
        await connection.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {quote_ident(partition.name + '_bound')} "
            f"CHECK ({column} >= '{partition.lower.isoformat()}' "
            f"AND {column} < '{partition.upper.isoformat()}')"
        )
        await connection.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES "
            f"FROM ('{partition.lower.isoformat()}') TO ('{partition.upper.isoformat()}')"
        )
        await connection.execute(
            f"ALTER TABLE {name} DROP CONSTRAINT {quote_ident(partition.name + '_bound')}"
        )
    return moved


async def make_ahead(
    connection: asyncpg.Connection, series: Series, now: datetime
) -> list[Partition]:
    """Make the partitions that cover up to now + premake; returns those made."""
    made = planned(await partitions(connection, series.table), series, now)
    for partition in made:
        await _create_and_attach(connection, series, partition, moving_strays=False)
        log.info("made partition %s", partition.name)
    return made


async def adopt_strays(connection: asyncpg.Connection, series: Series) -> int:
    """Move rows from the default partition into partitions of their own."""
    interval = series.interval
    bins = await connection.fetch(
        f"""SELECT date_bin($1, {series.column}, $2) AS start, count(*) AS n
            FROM {series.default} GROUP BY 1 ORDER BY 1""",
        interval,
        EPOCH,
    )
    moved = 0
    for row in bins:
        existing = await partitions(connection, series.table)
        lower, upper = row["start"], row["start"] + interval
        # Clip to the gap between existing partitions (the interval may have changed).
        for partition in existing:
            start = partition.lower or _EARLIEST
            if partition.upper <= lower or start >= upper:
                continue
            if start <= lower:
                lower = partition.upper
            else:
                upper = start
        if lower >= upper:
            continue
        partition = Partition(lower, upper, partition_name(lower, series.table))
        moved += await _create_and_attach(connection, series, partition, moving_strays=True)
        log.info("moved %d rows from the default partition into %s", row["n"], partition.name)
    return moved


async def drop_expired(
    connection: asyncpg.Connection, series: Series, now: datetime
) -> list[Dropped]:
    """Drop every partition wholly older than the retention; returns those dropped."""
    cutoff = now - series.retention
    dropped = []
    await _remove_detached(connection, series)  # left by a drop that stopped half way
    for partition in await partitions(connection, series.table):
        if partition.upper > cutoff:
            break
        if (done := await _drop(connection, series, partition)) is not None:
            dropped.append(done)
        else:
            log.warning(
                "could not drop partition %s: readers held %s; trying next round",
                partition.name,
                series.table,
            )
            break
    return dropped


async def _drop(
    connection: asyncpg.Connection, series: Series, partition: Partition
) -> Dropped | None:
    """Detach the partition (a short lock, retried), then drop it on its own: the files of a
    day go when the dropping transaction commits, and that took 3.5 s for 86 million readings
    (9 GB) here, which ingest would have waited out had the parent still been locked."""
    name = quote_ident(partition.name)
    detached = quote_ident(partition.name + DETACHED)
    started = time.monotonic()
    for attempt in range(DROP_ATTEMPTS):
        try:
            async with connection.transaction():
                await connection.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                noted = False
                if series.raw:
                    # From here no late reading lands in it (ingest elsewhere goes on), so a
                    # note still valid now is the partition's last word.
                    await connection.execute(f"LOCK TABLE {name} IN SHARE MODE")
                    noted = await _record_horizon(connection, partition)
                await connection.execute(f"ALTER TABLE {series.table} DETACH PARTITION {name}")
                await connection.execute(f"ALTER TABLE {name} RENAME TO {detached}")
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(0.2 * (attempt + 1))
            continue
        detach_s = time.monotonic() - started
        await connection.execute(f"DROP TABLE {detached}")
        done = Dropped(
            partition.lower,
            partition.upper,
            partition.name,
            detach_s=detach_s,
            files_s=time.monotonic() - started - detach_s,
            from_note=noted,
        )
        # How long and how many tries: what a drop beside busy ingest costs.
        log.info(
            "dropped partition %s (older than %s): detached at attempt %d in %.2f s, "
            "its files removed in %.2f s%s",
            partition.name,
            series.retention,
            attempt + 1,
            done.detach_s,
            done.files_s,
            "" if noted or not series.raw else "; its horizon read from it (no valid note)",
        )
        return done
    return None


DETACHED = "_expired"  # a detached partition's name while its files are being removed

_DETACHED = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
  AND c.relname ~ $1 AND NOT c.relispartition
"""


async def _remove_detached(connection: asyncpg.Connection, series: Series) -> None:
    """Drop what a drop detached but did not remove (it stopped in between)."""
    named = f"^{re.escape(series.table)}_p[0-9]{{8}}_[0-9]{{4}}{DETACHED}$"  # partition_name's
    for row in await connection.fetch(_DETACHED, named):
        await connection.execute(f"DROP TABLE {quote_ident(row['relname'])}")
        log.info("dropped %s, detached by an earlier round", row["relname"])


# Each sensor's last reading in the partition, one step down its primary key: a run that goes
# on past the partition has its last reading there (a sensor's runs follow one another), and
# a run that ended in it has nothing left for the audit to check. A scan for every run's
# max(seq) took seconds on a day of 1,000 sensors, and the drop waited for it.
_LAST_READINGS = """
SELECT s.id AS sensor_id, r.run_id, r.seq AS last_seq
FROM sensor s
CROSS JOIN LATERAL (
    SELECT run_id, seq FROM {partition} p
    WHERE p.sensor_id = s.id ORDER BY p.taken_on DESC LIMIT 1
) r
"""

# The audit's resume points, from the partition (_LAST_READINGS) or from its note.
_INTO_HORIZON = """
INSERT INTO reading_horizon (sensor_id, run_id, last_seq)
{rows}
ON CONFLICT (sensor_id, run_id) DO UPDATE
SET last_seq = greatest(reading_horizon.last_seq, excluded.last_seq)
"""


# A note is void if a minute inside the partition still waits for a refresh: a reading came
# after the note (or just before it) and may be its sensor's last.
_NOTE_VALID = """
SELECT EXISTS (SELECT 1 FROM raw_partition_note WHERE upper_bound = $2)
   AND NOT EXISTS (SELECT 1 FROM rollup_dirty
                   WHERE ($1::timestamptz IS NULL OR minute >= $1) AND minute < $2)
"""

_NOTED_ROWS = "SELECT sensor_id, run_id, last_seq FROM raw_partition_horizon WHERE upper_bound = $1"


async def _record_horizon(connection: asyncpg.Connection, partition: Partition) -> bool:
    """Before raw readings go: each sensor run's last seq in them, and the plant's horizon;
    True if it came from the partition's note, False if read from the partition itself."""
    noted = bool(await connection.fetchval(_NOTE_VALID, partition.lower, partition.upper))
    if noted:
        await connection.execute(_INTO_HORIZON.format(rows=_NOTED_ROWS), partition.upper)
    else:
        rows = _LAST_READINGS.format(partition=quote_ident(partition.name))
        await connection.execute(_INTO_HORIZON.format(rows=rows))
    await connection.execute(
        "DELETE FROM raw_partition_note WHERE upper_bound = $1", partition.upper
    )
    await advance_horizon(connection, partition.upper)
    return noted


_NOTED = "SELECT upper_bound FROM raw_partition_note"

_NOTE = """
INSERT INTO raw_partition_horizon (upper_bound, sensor_id, run_id, last_seq)
SELECT $1::timestamptz, sensor_id, run_id, last_seq FROM ({rows}) last
"""


async def note_closed(
    connection: asyncpg.Connection, series: Series, now: datetime
) -> list[Partition]:
    """Note where each sensor run resumes after every raw partition closed by `now` and not
    noted yet (what retention will keep in reading_horizon); returns those noted."""
    if not series.raw:
        return []
    done = {row["upper_bound"] for row in await connection.fetch(_NOTED)}
    noted = []
    for partition in await partitions(connection, series.table):
        if partition.upper > now - CLOSED_AFTER:
            break
        if partition.upper in done:
            continue
        async with connection.transaction():
            # A late writer into it waits for the note (ingest elsewhere goes on); each reading
            # committed before is in the note, each one after dirties a minute, voiding it.
            await connection.execute(f"LOCK TABLE {quote_ident(partition.name)} IN SHARE MODE")
            await connection.execute(
                "INSERT INTO raw_partition_note (upper_bound, lower_bound) VALUES ($1, $2)",
                partition.upper,
                partition.lower,
            )
            rows = _LAST_READINGS.format(partition=quote_ident(partition.name))
            await connection.execute(_NOTE.format(rows=rows), partition.upper)
        noted.append(partition)
        log.info("noted where each sensor run resumes after partition %s", partition.name)
    return noted


_PACKED = """
SELECT coalesce('fillfactor=100' = any(ic.reloptions), false)
FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
WHERE x.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass
  AND x.indisprimary
"""

_INDEXES = """
SELECT x.indisprimary AS primary_key, x.indisvalid AS valid, ic.relname AS name,
       pg_get_indexdef(x.indexrelid) AS definition,
       pg_get_constraintdef(c.oid) AS constraint_definition
FROM pg_index x
JOIN pg_class ic ON ic.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'p'
WHERE x.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass
"""
_KEY = re.compile(r"PRIMARY KEY \((.*)\)")


async def pack_closed(
    connection: asyncpg.Connection, series: Series, now: datetime
) -> list[Partition]:
    """Rewrite once, in primary key order and packed full, each partition closed by `now`
    (of the raw readings, only the key: `_rebuild_key`); returns those rewritten."""
    packed = []
    for partition in await partitions(connection, series.table):
        if partition.upper > now - CLOSED_AFTER:
            break
        if partition.lower is None or await connection.fetchval(_PACKED, partition.name):
            continue
        if series.raw:
            await _rebuild_key(connection, partition)
            packed.append(partition)
            log.info("rebuilt the key of closed partition %s, its leaves packed", partition.name)
        elif await _pack(connection, series, partition):
            packed.append(partition)
            log.info("packed closed partition %s in primary key order", partition.name)
        else:
            log.warning("could not swap in packed %s: readers held it; next round", partition.name)
            break
    return packed


async def _rebuild_key(connection: asyncpg.Connection, partition: Partition) -> None:
    """Rebuild a closed raw partition's primary key by sorting. Built by inserts interleaved
    across sensors, every leaf split half full: 141 bytes a reading on disk against 114 before
    the key carried the value (sql/040); rebuilt, the key takes the extra bytes back. The heap
    stays as it is: a day of 1,000 sensors is 6 GB to rewrite, and with the value in the key
    no query needs it in sensor order. CONCURRENTLY, so ingest and readers go on; a build that
    failed left an invalid copy, dropped first. Then fillfactor 100 marks it done."""
    indexes = await connection.fetch(_INDEXES, partition.name)
    for row in indexes:
        if not row["valid"]:
            await connection.execute(f"DROP INDEX CONCURRENTLY {quote_ident(row['name'])}")
    key = quote_ident(next(row["name"] for row in indexes if row["primary_key"]))
    await connection.execute(f"REINDEX INDEX CONCURRENTLY {key}")
    await connection.execute(f"ALTER INDEX {key} SET (fillfactor = 100)")


async def _pack(connection: asyncpg.Connection, series: Series, partition: Partition) -> bool:
    """The copy is made while the old partition is held in SHARE mode (readers go on, a late
    write waits, so none is lost), then swapped in under a short lock_timeout, as a drop is;
    False if readers kept the table from it (nothing changed)."""
    try:
        async with connection.transaction():
            await _copy_packed(connection, series, partition)
    except _GaveWay:
        return False
    # Its files go after the swap committed, not while the parent is locked (as for a drop).
    await connection.execute(f"DROP TABLE {quote_ident(partition.name + DETACHED)}")
    return True


class _GaveWay(Exception):
    """The swap waited for readers too often: undone, for the next round."""


async def _copy_packed(
    connection: asyncpg.Connection, series: Series, partition: Partition
) -> None:
    assert partition.lower is not None
    name = partition.name
    old, new = quote_ident(name), quote_ident(f"{name}_packing")
    check = quote_ident(f"{name}_bound")
    lower, upper = partition.lower.isoformat(), partition.upper.isoformat()
    await connection.execute(f"LOCK TABLE {old} IN SHARE MODE")
    indexes = await connection.fetch(_INDEXES, name)
    key = next(r["constraint_definition"] for r in indexes if r["primary_key"])
    columns = _KEY.fullmatch(key)
    if columns is None:
        raise RuntimeError(f"{name}: cannot read its primary key {key!r}")
    await connection.execute(f"CREATE TABLE {new} (LIKE {series.table} INCLUDING DEFAULTS)")
    await connection.execute(f"INSERT INTO {new} SELECT * FROM {old} ORDER BY {columns[1]}")
    # Built after the rows, by sorting: leaves packed to the fillfactor, which marks it done.
    pkey = quote_ident(f"{name}_packing_pkey")
    await connection.execute(
        f"ALTER TABLE {new} ADD CONSTRAINT {pkey} {key} WITH (fillfactor = 100)"
    )
    others = [r for r in indexes if not r["primary_key"]]
    for row in others:
        method = row["definition"].split(" USING ", 1)[1]
        temporary = quote_ident(f"{row['name']}_packing")
        await connection.execute(f"CREATE INDEX {temporary} ON {new} USING {method}")
    await connection.execute(
        f"ALTER TABLE {new} ADD CONSTRAINT {check} CHECK ({series.column} >= '{lower}' "
        f"AND {series.column} < '{upper}')"
    )
    for attempt in range(DROP_ATTEMPTS):
        try:
            async with connection.transaction():  # a savepoint: the copy is kept
                await connection.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                await connection.execute(f"ALTER TABLE {series.table} DETACH PARTITION {old}")
                await connection.execute(
                    f"ALTER TABLE {series.table} ATTACH PARTITION {new} "
                    f"FOR VALUES FROM ('{lower}') TO ('{upper}')"
                )
            break
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(0.2 * (attempt + 1))
    else:
        raise _GaveWay
    await connection.execute(f"ALTER TABLE {old} RENAME TO {quote_ident(name + DETACHED)}")
    for row in indexes:  # their names go to the copy's indexes
        await connection.execute(
            f"ALTER INDEX {quote_ident(row['name'])} RENAME TO "
            f"{quote_ident(row['name'] + DETACHED)}"
        )
    await connection.execute(f"ALTER TABLE {new} DROP CONSTRAINT {check}")
    await connection.execute(f"ALTER TABLE {new} RENAME TO {old}")
    await connection.execute(
        f"ALTER TABLE {old} RENAME CONSTRAINT {pkey} TO {quote_ident(f'{name}_pkey')}"
    )
    for row in others:
        await connection.execute(
            f"ALTER INDEX {quote_ident(row['name'] + '_packing')} "
            f"RENAME TO {quote_ident(row['name'])}"
        )
