"""Exporting readings or rollups of some sensors over a window, streamed in constant memory.

CSV comes straight out of PostgreSQL (`COPY (SELECT ...) TO STDOUT`, formatted by the server
in C, passed on chunk by chunk): the fastest path there is, and nothing is held but a chunk.
Parquet is read through a server-side cursor in batches and written a row group at a time
with pyarrow. Either way one sensor after another, each in time order along the primary key,
so no sort and no growing state. Times are ISO 8601 in UTC with the zone (`Z`), as a
spreadsheet reads them; a header row names the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import asyncpg

from controlroom.db.history import Resolution
from controlroom.errors import ConfigError

PARQUET_BATCH = 65_536
_ISO = """to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

COLUMNS = {
    Resolution.RAW: ("sensor", "taken_on", "value"),
    Resolution.MINUTE: ("sensor", "start", "count", "min", "max", "mean", "first", "last"),
    Resolution.HOUR: ("sensor", "start", "count", "min", "max", "mean", "first", "last"),
}


def _select(resolution: Resolution, iso: bool) -> str:
    """One sensor's rows in [since, until): $1 its name, $2 its id, $3 since, $4 until."""
    if resolution is Resolution.RAW:
        at = _ISO.format(col="taken_on") if iso else "taken_on"
        return f"""SELECT $1::text, {at}, value FROM sensor_reading
                   WHERE sensor_id = $2 AND taken_on >= $3 AND taken_on < $4
                   ORDER BY taken_on"""
    at = _ISO.format(col="bucket") if iso else "bucket"
    return f"""SELECT $1::text, {at}, n, low, high, total / n, first_value, last_value
               FROM {resolution.table}
               WHERE sensor_id = $2 AND bucket >= $3 AND bucket < $4
               ORDER BY bucket"""


@dataclass(frozen=True, slots=True)
class ExportPlan:
    sensors: list[tuple[str, int]]  # name, id
    since: datetime
    until: datetime
    resolution: Resolution
    rows: int  # what the database holds for the window: the file must have as many


async def plan(
    connection: asyncpg.Connection,
    names: Sequence[str],
    since: datetime,
    until: datetime,
    resolution: Resolution,
) -> ExportPlan:
    """Check the sensors and count the rows (an index-only count: cheap beside the export)."""
    if since >= until:
        raise ConfigError("--since must be before --until")
    found = {
        row["name"]: row["id"]
        for row in await connection.fetch(
            "SELECT name, id FROM sensor WHERE name = any($1::text[])", list(names)
        )
    }
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ConfigError(f"no sensor named {', '.join(map(repr, unknown))} in this plant")
    sensors = [(name, found[name]) for name in dict.fromkeys(names)]
    column = "taken_on" if resolution is Resolution.RAW else "bucket"
    rows = await connection.fetchval(
        f"""SELECT count(*) FROM {resolution.table}
            WHERE sensor_id = any($1::int[]) AND {column} >= $2 AND {column} < $3""",
        [sensor_id for _, sensor_id in sensors],
        since,
        until,
    )
    return ExportPlan(sensors, since, until, resolution, rows)


Progress = Callable[[int], None]  # rows written so far


async def export_csv(
    connection: asyncpg.Connection, job: ExportPlan, out: BinaryIO, progress: Progress
) -> int:
    """Write the CSV file; returns the rows written (the header not counted)."""
    query = _select(job.resolution, iso=True)
    queries = [(query, (name, sensor_id, job.since, job.until)) for name, sensor_id in job.sensors]
    return await copy_csv(connection, COLUMNS[job.resolution], queries, out, progress)


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
    query = _select(job.resolution, iso=False)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for name, sensor_id in job.sensors:
            async with connection.transaction():
                cursor = await connection.cursor(query, name, sensor_id, job.since, job.until)
                while True:
                    records = await cursor.fetch(PARQUET_BATCH)
                    if not records:
                        break
                    columns = list(zip(*records, strict=True))
                    writer.write_table(
                        pa.table(
                            [pa.array(c, type=t) for c, t in zip(columns, types, strict=True)],
                            schema=schema,
                        )
                    )
                    written += len(records)
                    progress(written)
    return written
