"""Bench: years of history. A plant pre-filled with N readings, then the issue's figures.

    python -m bench history [--readings N] [--duration S]

In one run, in this order:

1. Ingest: binary COPY (bench.ceiling's, the datamanager's format) into the partitioned
   `sensor_reading` and into an unpartitioned copy of it (same columns, primary key and BRIN
   index), ROUNDS paired rounds of `--duration` seconds each, which table goes first swapped
   every round; `ingest_ratio_partitioned` is the median of the rounds' partitioned rows/s over
   unpartitioned rows/s (`ingest_ratio_totals` the ratio of the totals).
2. The fill: `--readings` readings by binary COPY into the partitions, SPAN_S seconds (about
   28 hours) of 1 Hz sensors, as many sensors as that takes (10 million: 100 sensors; 100
   million: 1,000), ending at the start of the current week, so their 1-minute rollup partition
   is closed. The rollups of that range are computed by `controlroom.db.rollups.refresh` (timed:
   `rollup_refresh_s`); the year before it gets 1-hour rollups written directly (its raw
   readings would be gone by retention), so the 7 d, 30 d and 1 y windows have a year to read.
3. Windows: `sensor_history` (with `pick_resolution`) on QUERIES random sensors and window
   ends per window of the TUI; p50/p99 ms each (`window_p99_ms_unpacked` before step 4,
   `window_p99_ms` after it).
4. Packing: bytes on disk of the 1-minute rollups per reading they stand for (at 1 Hz) and
   of the raw readings per reading, before and after `db maintain` packs the closed partitions
   (rollups rewritten in primary key order, the raw readings' keys rebuilt); a second round
   must find nothing to do.
5. Export: `controlroom-worker export` of about 1 million and 10 million (at most the fill)
   raw readings to CSV, and the smaller one to Parquet: rows/s, the process's peak RSS, the
   file's rows against the database's count (the Parquet file read back by pyarrow).
6. Retention: the oldest day's partition dropped (`partitions.drop_expired`) while a COPY loop
   ingests into today's partition: the drop's seconds and the longest gap between commits.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from bench.ceiling import KEYED_BATCH, copy_readings, keyed_into
from bench.harness import BenchPlant, ResourceSampler, log_tail
from controlroom.clock import datetime_to_us, now_us
from controlroom.db import connect
from controlroom.db.connection import quote_ident
from controlroom.db.copy import COLUMNS, ReadingRows
from controlroom.db.history import pick_resolution, sensor_history
from controlroom.db.maintenance import maintain
from controlroom.db.partitions import aligned, drop_expired, make_ahead, partitions, raw_series
from controlroom.db.policy import load_policy
from controlroom.db.rollups import mark_dirty, refresh, rollup_series
from controlroom.plant.readings import Frame

log = logging.getLogger(__name__)

DEFAULT_READINGS = 10_000_000
SPAN_S = 100_000  # the fill's seconds of 1 Hz readings (about 28 hours)
MIN_SENSORS = 10  # a small fill spans less time rather than fewer sensors
COPY_ROWS = 100_000  # readings per COPY of the fill
FILL_CONNECTIONS = 2
ROUNDS = 6  # paired ingest rounds, the order swapped each round
QUERIES = 200  # per window (fewer for a fill under 200,000 readings: a smoke run)
WINDOWS = {
    "1 min": 60,
    "15 min": 15 * 60,
    "1 h": 3600,
    "24 h": 24 * 3600,
    "7 d": 7 * 86400,
    "30 d": 30 * 86400,
    "1 y": 365 * 86400,
}
EXPORT_SIZES = (1_000_000, 10_000_000)
INGEST_AROUND_DROP_S = 2.0
RETENTION_DROPS = 2  # the fill's partial first day, then its first whole day
YEAR = timedelta(days=365)
WEEK = timedelta(days=7)
_RATE = re.compile(r"([\d,]+) rows/s")

# Targets the issue sets (reported beside the figures, not asserted).
TARGETS = {
    "ingest_ratio_partitioned": 0.95,
    "window_p99_ms": 100.0,
    "bytes_per_reading_rolled": 2.0,
    "retention_drop_s": 1.0,
    "longest_commit_gap_s": 1.0,
    "export_rows_per_s": 500_000,
}


async def run(readings: int = DEFAULT_READINGS, duration: float = 3.0) -> dict[str, Any]:
    span_s = max(1, min(SPAN_S, readings // MIN_SENSORS))
    sensors = max(1, readings // span_s)
    readings = sensors * span_s
    fill_end = aligned(datetime.now(UTC) - timedelta(days=1), WEEK)
    fill_start = fill_end - timedelta(seconds=span_s)
    result: dict[str, Any] = {"readings": readings, "sensors": sensors, "span_s": span_s}
    async with BenchPlant() as plant:
        connection = await connect(plant.settings)
        try:
            await _partitions_from(connection, fill_start)
            result |= await _ingest_ratio(plant, connection, duration)
            ids = await _sensors(connection, sensors)
            result |= await _fill(plant, connection, ids, fill_start, span_s)
            queries = max(10, min(QUERIES, readings // 1000))
            unpacked = await _windows(connection, ids, fill_start, fill_end, queries)
            result |= {f"{key}_unpacked": value for key, value in unpacked.items()}
            result |= await _packing(connection, readings)
            result |= await _windows(connection, ids, fill_start, fill_end, queries)
            result |= await _exports(plant, connection, ids, fill_start, fill_end, span_s)
            result |= await _retention(plant, connection, min(duration, INGEST_AROUND_DROP_S))
        finally:
            await connection.close()
    result["targets"] = TARGETS
    result["meets_targets"] = _meets(result)
    return result


def _meets(result: dict[str, Any]) -> bool:
    return bool(
        result["ingest_ratio_partitioned"] >= TARGETS["ingest_ratio_partitioned"]
        and max(result["window_p99_ms"].values()) < TARGETS["window_p99_ms"]
        and result["bytes_per_reading_rolled"] <= TARGETS["bytes_per_reading_rolled"]
        and result["retention_drop_s"] < TARGETS["retention_drop_s"]
        and result["longest_commit_gap_s"] < TARGETS["longest_commit_gap_s"]
        and result["export_rows_per_s"] >= TARGETS["export_rows_per_s"]
        and result["export_complete"]
    )


async def _partitions_from(connection: asyncpg.Connection, start: datetime) -> None:
    """Partitions of the readings and rollups from `start` (the hours from a year earlier)
    to their usual premake ahead of now (migrate's own, empty, are replaced)."""
    policy = await load_policy(connection)
    raw, minutes, hours = raw_series(policy), *rollup_series(policy)
    now = datetime.now(UTC)
    for series, since in ((raw, start), (minutes, start), (hours, start - YEAR)):
        for partition in await partitions(connection, series.table):
            await connection.execute(f"DROP TABLE {quote_ident(partition.name)}")
        wide = replace(series, premake=now - since + series.premake)
        await make_ahead(connection, wide, since)


async def _ingest_ratio(
    plant: BenchPlant, connection: asyncpg.Connection, duration: float
) -> dict[str, Any]:
    """Paired rounds into the partitioned table and an unpartitioned copy of it, the order
    swapped every round; the ratio is the median of the rounds' ratios, as a noise burst on
    the shared machine hits one round of one table and the median leaves it out."""
    await connection.execute(
        "CREATE TABLE scratch_unpartitioned (LIKE sensor_reading INCLUDING ALL)"
    )
    tables = ("sensor_reading", "scratch_unpartitioned")
    totals = {table: [0, 0.0] for table in tables}
    base_us = now_us() - 3_600_000_000
    pairs = []
    for number in range(ROUNDS):
        rates = {}
        for table in tables if number % 2 == 0 else reversed(tables):
            # Each round its own stretch of time: no key is written twice.
            rows, seconds = await keyed_into(plant, table, duration, base_us + number * 10**7)
            totals[table][0] += rows
            totals[table][1] += seconds
            rates[table] = rows / seconds
        pairs.append(round(rates["sensor_reading"] / rates["scratch_unpartitioned"], 3))
    await connection.execute("DROP TABLE scratch_unpartitioned")
    await connection.execute("TRUNCATE sensor_reading")
    overall = {table: rows / seconds for table, (rows, seconds) in totals.items()}
    log.info("ingest: %s rows/s, round ratios %s", {t: round(r) for t, r in overall.items()}, pairs)
    return {
        "ingest_rows_per_s_partitioned": round(overall["sensor_reading"]),
        "ingest_rows_per_s_unpartitioned": round(overall["scratch_unpartitioned"]),
        "ingest_round_ratios": pairs,
        "ingest_ratio_partitioned": round(statistics.median(pairs), 3),
        "ingest_ratio_totals": round(
            overall["sensor_reading"] / overall["scratch_unpartitioned"], 3
        ),
    }


async def _sensors(connection: asyncpg.Connection, count: int) -> list[int]:
    rows = await connection.fetch(
        "INSERT INTO sensor (name, unit_type, min_safe_value, max_safe_value, period_s) "
        "SELECT 'h-' || lpad(n::text, 4, '0'), 'C', 10, 90, 1.0 "
        "FROM generate_series(1, $1) n RETURNING id",
        count,
    )
    return sorted(row["id"] for row in rows)


async def _fill(
    plant: BenchPlant,
    connection: asyncpg.Connection,
    ids: list[int],
    start: datetime,
    span_s: int,
) -> dict[str, Any]:
    """The readings by COPY (their minutes marked dirty), their rollups by refresh, and a year
    of hours before them written directly."""
    run_id = await connection.fetchval(
        "INSERT INTO source_run (source, run) VALUES ('h-gateway', 'bench') RETURNING id"
    )
    started = time.monotonic()
    groups = [ids[n::FILL_CONNECTIONS] for n in range(FILL_CONNECTIONS)]
    await asyncio.gather(
        *(_copy_fill(plant, group, run_id, start, span_s) for group in groups if group)
    )
    fill_s = time.monotonic() - started
    readings = len(ids) * span_s
    log.info("filled %d readings in %.0f s (%.0f/s)", readings, fill_s, readings / fill_s)
    minute0 = int((start - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds()) // 60
    await mark_dirty(connection, list(range(minute0, minute0 + -(-span_s // 60) + 1)))
    started = time.monotonic()
    await refresh(connection, wait=True)
    refresh_s = time.monotonic() - started
    log.info("rolled up in %.0f s", refresh_s)
    started = time.monotonic()
    hours = await _year_of_hours(connection, aligned(start, timedelta(hours=1)))
    hours_s = time.monotonic() - started
    # The fill stands for 28 hours of ingest, over which autovacuum (on inserts, every 20% of
    # growth) would have marked the older pages all-visible, as index-only scans need; run
    # once here, it cannot start in the middle of the measurements instead.
    started = time.monotonic()
    await connection.execute("VACUUM (ANALYZE) sensor_reading")
    vacuum_s = time.monotonic() - started
    await connection.execute("ANALYZE reading_1m")
    await connection.execute("ANALYZE reading_1h")
    return {
        "fill_s": round(fill_s, 1),
        "fill_rows_per_s": round(readings / fill_s),
        "rollup_refresh_s": round(refresh_s, 1),
        "rollup_refresh_readings_per_s": round(readings / max(refresh_s, 1e-9)),
        "hours_written_directly": hours,
        "hours_write_s": round(hours_s, 1),
        "vacuum_s": round(vacuum_s, 1),
    }


async def _copy_fill(
    plant: BenchPlant, ids: list[int], run_id: int, start: datetime, span_s: int
) -> None:
    """1 Hz readings of `ids` for `span_s` seconds from `start`, COPY_ROWS to a COPY."""
    connection = await connect(plant.settings)
    try:
        sensor_ids = np.array(ids, dtype=np.int32)
        names = [""] * len(ids)
        phases = np.arange(len(ids), dtype=np.float64)
        start_us = datetime_to_us(start)
        ticks_per_copy = max(1, COPY_ROWS // len(ids))
        for first in range(0, span_s, ticks_per_copy):
            ticks = range(first, min(span_s, first + ticks_per_copy))
            rows = ReadingRows(len(ids) * len(ticks))
            for tick in ticks:
                values = (50.0 + 30.0 * np.sin((phases + tick) / 300.0)).tolist()
                at = start_us + tick * 1_000_000
                frame = Frame("h", "bench", names, [tick + 1] * len(ids), [at] * len(ids), values)
                rows.add(frame, sensor_ids, run_id)
            await connection.copy_to_table(
                "sensor_reading",
                source=memoryview(rows.payload()),
                columns=COLUMNS,
                format="binary",
            )
    finally:
        await connection.close()


_SIZE = """
SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint
FROM pg_inherits i WHERE i.inhparent = $1::regclass
"""

_HOURS = """
INSERT INTO reading_1h (sensor_id, n, bucket, low, high, total, first_value, last_value)
SELECT s.id, 3600, h, 20, 80, 3600 * 50.0, 50, 50
FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', '1 hour') h
CROSS JOIN sensor s
ORDER BY h, s.id
"""


async def _year_of_hours(connection: asyncpg.Connection, end: datetime) -> int:
    """Hourly rollups of every sensor for the year before `end`, in time order (as a refresh
    writes them), a month to a statement."""
    written = 0
    step = timedelta(days=30)
    since = end - YEAR
    while since < end:
        until = min(end, since + step)
        status = await connection.execute(_HOURS, since, until)
        written += int(status.split()[-1])
        since = until
    return written


async def _windows(
    connection: asyncpg.Connection,
    ids: list[int],
    start: datetime,
    end: datetime,
    queries: int,
) -> dict[str, Any]:
    """p50/p99 of `sensor_history` per window, on random sensors and window ends."""
    names = {
        row["id"]: row["name"] for row in await connection.fetch("SELECT id, name FROM sensor")
    }
    rng = random.Random(13)
    start_us, end_us = datetime_to_us(start), datetime_to_us(end)
    span_us = end_us - start_us
    p50, p99, sources = {}, {}, {}
    for label, seconds in WINDOWS.items():
        window_us = seconds * 1_000_000
        earliest = start_us + min(window_us, span_us)
        took = []
        for _ in range(queries):
            name = names[rng.choice(ids)]
            until = rng.randint(earliest, end_us)
            began = time.perf_counter()
            buckets = await sensor_history(connection, name, until - window_us, until)
            took.append((time.perf_counter() - began) * 1000)
            if not buckets:
                raise RuntimeError(f"the {label} window of {name} ending {until} came back empty")
        took.sort()
        p50[label] = round(statistics.median(took), 2)
        p99[label] = round(took[min(len(took) - 1, int(len(took) * 0.99))], 2)
        sources[label] = pick_resolution(timedelta(seconds=seconds), 1.0).value
    log.info("window p99 ms: %s", p99)
    return {
        "window_queries": queries,
        "window_p50_ms": p50,
        "window_p99_ms": p99,
        "window_source": sources,
    }


_ROLLED = "SELECT coalesce(sum(n), 0) FROM reading_1m"


async def _packing(connection: asyncpg.Connection, readings: int) -> dict[str, Any]:
    """Bytes on disk per reading, of the 1-minute rollups (per reading they stand for) and of
    the raw readings, before and after `db maintain` packs the closed partitions (rollups
    rewritten in key order, the raw readings' keys rebuilt); a second round packs nothing."""
    rolled = await connection.fetchval(_ROLLED)
    before = await connection.fetchval(_SIZE, "reading_1m")
    raw_before = await connection.fetchval(_SIZE, "sensor_reading")
    started = time.monotonic()
    first = await maintain(connection, retention=False)
    pack_s = time.monotonic() - started
    after = await connection.fetchval(_SIZE, "reading_1m")
    raw_after = await connection.fetchval(_SIZE, "sensor_reading")
    second = await maintain(connection, retention=False)
    return {
        "bytes_per_reading_rolled_before_packing": round(before / rolled, 3),
        "bytes_per_reading_rolled": round(after / rolled, 3),
        "bytes_per_reading_raw_open": round(raw_before / readings, 1),
        "bytes_per_reading_raw": round(raw_after / readings, 1),
        "rollup_partitions_packed": len(first.packed),
        "raw_partitions_rekeyed": len(first.rekeyed),
        "packing_s": round(pack_s, 1),
        "rollup_partitions_packed_second_round": len(second.packed),
        "raw_partitions_rekeyed_second_round": len(second.rekeyed),
    }


async def _exports(
    plant: BenchPlant,
    connection: asyncpg.Connection,
    ids: list[int],
    start: datetime,
    end: datetime,
    span_s: int,
) -> dict[str, Any]:
    """`controlroom-worker export` of about 1 M and 10 M readings (at most the fill) to CSV,
    and the smaller to Parquet."""
    names = [
        row["name"]
        for row in await connection.fetch("SELECT name FROM sensor WHERE id = any($1)", ids)
    ]
    names.sort()
    total = len(ids) * span_s
    small, large = min(EXPORT_SIZES[0], total // 10), min(EXPORT_SIZES[1], total)
    sizes = sorted({max(span_s, small), large})
    exports: dict[str, Any] = {}
    complete = True
    with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
        for size in sizes:
            chosen = names[: max(1, -(-size // span_s))]
            figures = await _export(plant, chosen, start, end, Path(folder), "csv")
            exports[f"csv_{figures['rows']}"] = figures
            complete = complete and figures["complete"]
        parquet = await _export(
            plant, names[: max(1, -(-sizes[0] // span_s))], start, end, Path(folder), "parquet"
        )
        exports[f"parquet_{parquet['rows']}"] = parquet
        complete = complete and parquet["complete"]
    largest = max((f for k, f in exports.items() if k.startswith("csv")), key=lambda f: f["rows"])
    return {
        "exports": exports,
        "export_rows_per_s": largest["rows_per_s"],
        "export_complete": complete,
    }


async def _export(
    plant: BenchPlant,
    sensors: list[str],
    start: datetime,
    end: datetime,
    folder: Path,
    kind: str,
) -> dict[str, Any]:
    out = folder / f"export.{kind}"
    args = ["export", "--format", kind, "--out", str(out)]
    args += ["--since", start.isoformat(), "--until", end.isoformat()]
    for name in sensors:
        args += ["--sensor", name]
    label = f"export-{kind}-{len(sensors)}"
    began = time.monotonic()
    child = plant.worker(label, *args)
    async with ResourceSampler({label: child}) as sampler:
        code = await child.wait(3600)
    seconds = time.monotonic() - began
    if code != 0:
        raise RuntimeError(f"{label} exited with {code}:\n{log_tail(child)}")
    rows = _file_rows(out, kind)
    counted = await _counted(plant, sensors, start, end)
    rates = _RATE.findall(child.log_text())
    figures = {
        "rows": rows,
        "database_rows": counted,
        "complete": rows == counted,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "streaming_rows_per_s": int(rates[-1].replace(",", "")) if rates else None,
        "peak_rss_mb": sampler.usage[label].peak_rss_mb,
        "file_mb": round(out.stat().st_size / 2**20, 1),
    }
    out.unlink()
    log.info("export %s: %s", kind, figures)
    return figures


def _file_rows(path: Path, kind: str) -> int:
    """Rows in the file: CSV lines but the header; Parquet as pyarrow reads it."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 22):
            lines += chunk.count(b"\n")
    return lines - 1


async def _counted(plant: BenchPlant, sensors: list[str], start: datetime, end: datetime) -> int:
    connection = await connect(plant.settings)
    try:
        count: int = await connection.fetchval(
            """SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
               WHERE s.name = any($1) AND r.taken_on >= $2 AND r.taken_on < $3""",
            sensors,
            start,
            end,
        )
    finally:
        await connection.close()
    return count


async def _retention(
    plant: BenchPlant, connection: asyncpg.Connection, around_s: float
) -> dict[str, Any]:
    """Drop the two oldest partitions (the fill's first, partial day, then its first whole
    day), one after the other, while a COPY loop ingests into today's (for `around_s` before,
    between and after)."""
    series = raw_series(await load_policy(connection))
    oldest = (await partitions(connection))[:RETENTION_DROPS]
    sizes = {
        p.name: await connection.fetchval(f"SELECT count(*) FROM {quote_ident(p.name)}")
        for p in oldest
    }
    commits: list[float] = []
    stop = asyncio.Event()

    async def ingest() -> None:
        writer = await connect(plant.settings)
        try:
            start_us, tick = now_us() - 60_000_000, 0
            while not stop.is_set():
                async with writer.transaction():
                    await copy_readings(writer, "sensor_reading", KEYED_BATCH, 1, tick, start_us)
                commits.append(time.monotonic())
                tick += KEYED_BATCH // 1000
        finally:
            await writer.close()

    drops: dict[str, dict[str, Any]] = {}
    spans = []
    task = asyncio.create_task(ingest())
    try:
        for partition in oldest:
            await asyncio.sleep(around_s)
            began = time.monotonic()
            dropped = await drop_expired(connection, series, partition.upper + series.retention)
            ended = time.monotonic()
            if [p.name for p in dropped] != [partition.name]:
                raise RuntimeError(f"expected to drop {partition.name}, dropped {dropped}")
            spans.append((began, ended))
            drops[partition.name] = {
                "rows": sizes[partition.name],
                "seconds": round(ended - began, 3),
                "detach_s": round(dropped[0].detach_s, 3),
                "files_removed_s": round(dropped[0].files_s, 3),
                "horizon_from_note": dropped[0].from_note,
            }
        await asyncio.sleep(around_s)
    finally:
        stop.set()
        await task
    gaps = [b - a for a, b in itertools.pairwise(commits)]
    during = [
        b - a
        for a, b in itertools.pairwise(commits)
        if any(b >= began and a <= ended for began, ended in spans)
    ]
    day = max(drops.values(), key=lambda d: d["rows"])
    return {
        "retention_drop_s": day["detach_s"],
        "retention_drop_with_files_s": day["seconds"],
        "retention_drops": drops,
        "commits_during_ingest": len(commits),
        "longest_commit_gap_s": round(max(gaps, default=0.0), 3),
        "longest_commit_gap_during_drop_s": round(max(during, default=0.0), 3),
        "median_commit_gap_s": round(statistics.median(gaps), 4) if gaps else None,
    }
