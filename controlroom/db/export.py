"""Exporting readings or rollups of some sensors over a window, streamed in constant memory.

CSV comes straight out of PostgreSQL (`COPY (SELECT ...) TO STDOUT`, formatted by the server
in C, passed on chunk by chunk): the fastest path there is, and nothing is held but a chunk.
Parquet is fetched the same chunks at a time and written a row group at a time with pyarrow.
Rows come in time order (then by sensor), a stretch of time at a time (about CHUNK_ROWS
rows by the sensors' periods, sorted in PostgreSQL's work memory): readings are stored in time
order across sensors, so one sensor after another read every page of the window once per
sensor (100 sensors: 160,000 rows/s, measured); in time order each page is read once. Times
are ISO 8601 in UTC with the zone (`Z`), as a spreadsheet reads them; a header row names the
columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import asyncpg

from controlroom.db.history import Resolution
from controlroom.errors import ConfigError

PARQUET_BATCH = 65_536  # rows per row group, at least
CHUNK_ROWS = 50_000  # rows per stretch of time (one query, sorted in memory)
# Enough for a stretch's sort to stay in memory: with the default 4 MB it spilled to disk
# (an external merge of 3 MB), which made each stretch three times as slow (measured).
SORT_MEMORY = "64MB"
MIN_STRETCH = timedelta(seconds=1)
MIN_PERIOD_S = 0.001
_ISO = """to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

COLUMNS = {
    Resolution.RAW: ("sensor", "taken_on", "value"),
    Resolution.MINUTE: ("sensor", "start", "count", "min", "max", "mean", "first", "last"),
    Resolution.HOUR: ("sensor", "start", "count", "min", "max", "mean", "first", "last"),
}


def _select(resolution: Resolution, iso: bool) -> str:
    """The sensors' rows in [since, until), in time order: $1 their ids, $2 since, $3 until."""
    if resolution is Resolution.RAW:
        at = _ISO.format(col="r.taken_on") if iso else "r.taken_on"
        return f"""SELECT s.name, {at}, r.value
                   FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
                   WHERE r.sensor_id = any($1::int[]) AND r.taken_on >= $2 AND r.taken_on < $3
                   ORDER BY r.taken_on, r.sensor_id"""
    at = _ISO.format(col="r.bucket") if iso else "r.bucket"
    return f"""SELECT s.name, {at}, r.n, r.low, r.high, r.total / r.n, r.first_value,
                      r.last_value
               FROM {resolution.table} r JOIN sensor s ON s.id = r.sensor_id
               WHERE r.sensor_id = any($1::int[]) AND r.bucket >= $2 AND r.bucket < $3
               ORDER BY r.bucket, r.sensor_id"""


@dataclass(frozen=True, slots=True)
class ExportPlan:
    sensors: list[tuple[str, int]]  # name, id
    since: datetime
    until: datetime
    resolution: Resolution
    rows: int  # what the database holds for the window: the file must have as many
    period: timedelta = timedelta(seconds=1)  # the shortest between two rows of a sensor

    def stretches(self) -> list[tuple[datetime, datetime]]:
        """[since, until) cut into stretches of about CHUNK_ROWS rows of all the sensors."""
        step = max(MIN_STRETCH, self.period * CHUNK_ROWS / max(len(self.sensors), 1))
        cuts = []
        start = self.since
        while start < self.until:
            end = min(self.until, start + step)
            cuts.append((start, end))
            start = end
        return cuts

    def queries(self, iso: bool) -> list[tuple[str, Sequence[object]]]:
        query = _select(self.resolution, iso)
        ids = [sensor_id for _, sensor_id in self.sensors]
        return [(query, (ids, start, end)) for start, end in self.stretches()]


async def plan(
    connection: asyncpg.Connection,
    names: Sequence[str],
    since: datetime,
    until: datetime,
    resolution: Resolution,
) -> ExportPlan:
    """Check the sensors and count the rows (an index-only count: cheap beside the export);
    the connection is set up for the export's sorts."""
    if since >= until:
        raise ConfigError("--since must be before --until")
    await connection.execute(f"SET work_mem = '{SORT_MEMORY}'")
    found = {
        row["name"]: (row["id"], row["period_s"])
        for row in await connection.fetch(
            "SELECT name, id, period_s FROM sensor WHERE name = any($1::text[])", list(names)
        )
    }
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ConfigError(f"no sensor named {', '.join(map(repr, unknown))} in this plant")
    sensors = [(name, found[name][0]) for name in dict.fromkeys(names)]
    column = "taken_on" if resolution is Resolution.RAW else "bucket"
    rows = await connection.fetchval(
        f"""SELECT count(*) FROM {resolution.table}
            WHERE sensor_id = any($1::int[]) AND {column} >= $2 AND {column} < $3""",
        [sensor_id for _, sensor_id in sensors],
        since,
        until,
    )
    if resolution is Resolution.RAW:
        fastest = min(found[name][1] for name, _ in sensors)
        period = timedelta(seconds=max(fastest, MIN_PERIOD_S))
    else:
        period = resolution.width
    return ExportPlan(sensors, since, until, resolution, rows, period)


Progress = Callable[[int], None]  # rows written so far


async def export_csv(
    connection: asyncpg.Connection, job: ExportPlan, out: BinaryIO, progress: Progress
) -> int:
    """Write the CSV file; returns the rows written (the header not counted)."""
    return await copy_csv(connection, COLUMNS[job.resolution], job.queries(iso=True), out, progress)


async def copy_csv(
    connection: asyncpg.Connection,
    columns: Sequence[str],
    queries: Sequence[tuple[str, Sequence[object]]],
    out: BinaryIO,
    progress: Progress = lambda _: None,
) -> int:
    """The one CSV writer: a header row of `columns`, then each (query, arguments)'s rows as
    PostgreSQL formats them (`COPY (SELECT ...) TO STDOUT`); returns the rows written. Times
    should be selected with `iso_time` (ISO 8601 in UTC, as a spreadsheet reads them)."""
    out.write((",".join(columns) + "\n").encode())
    written = 0

    async def take(chunk: bytes) -> None:
        nonlocal written
        out.write(chunk)
        written += chunk.count(b"\n")
        progress(written)

    for query, args in queries:
        await connection.copy_from_query(query, *args, output=take, format="csv")
    return written


def iso_time(column: str) -> str:
    """SQL for a timestamptz column as ISO 8601 in UTC with the zone (`Z`)."""
    return _ISO.format(col=column)


async def export_parquet(
    connection: asyncpg.Connection, job: ExportPlan, path: Path, progress: Progress
) -> int:
    """Write the Parquet file a row group at a time; returns the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = COLUMNS[job.resolution]
    time_type = pa.timestamp("us", tz="UTC")
    if job.resolution is Resolution.RAW:
        types = [pa.string(), time_type, pa.float64()]
    else:
        types = [pa.string(), time_type, pa.int32(), *[pa.float64()] * 5]
    schema = pa.schema(list(zip(names, types, strict=True)))
    written = 0
    pending: list[asyncpg.Record] = []

    def flush() -> None:
        columns = list(zip(*pending, strict=True))
        writer.write_table(
            pa.table(
                [pa.array(c, type=t) for c, t in zip(columns, types, strict=True)], schema=schema
            )
        )
        pending.clear()

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for query, args in job.queries(iso=False):
            records = await connection.fetch(query, *args)
            pending.extend(records)
            written += len(records)
            if len(pending) >= PARQUET_BATCH:
                flush()
            progress(written)
        if pending:
            flush()
    return written
