"""`controlroom-worker export` against the real PostgreSQL: CSV a spreadsheet reads, Parquet
that pyarrow reads back, the rows the database holds, and bad requests as one line."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pyarrow.parquet as pq
import pytest

from controlroom.clock import datetime_to_us
from controlroom.config import Settings
from controlroom.db import export as export_module
from controlroom.db.export import export_csv, plan
from controlroom.db.history import Resolution
from controlroom.db.rollups import refresh
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import PersistBatch

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
TICKS = 600  # readings per sensor, 100 ms apart: a minute


async def fill(db: asyncpg.Connection) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    names, seqs, times, values = [], [], [], []
    for n in range(TICKS):
        for k, name in enumerate(("ex_a", "ex_b")):
            names.append(name)
            seqs.append(n + 1)
            times.append(datetime_to_us(START + timedelta(milliseconds=100 * n + 7)))
            values.append(n * 0.5 + k if n % 50 else -1.25e-7)
    await writer.write([PersistBatch(frames=[Frame("exgw", "ex-run", names, seqs, times, values)])])
    await refresh(db, wait=True)


def export(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "export", *args],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


WINDOW = ("--since", (START - timedelta(minutes=1)).isoformat(), "--until", "0s")


async def test_csv_has_a_header_iso_times_with_zone_and_every_row(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await fill(db)
    out = tmp_path / "readings.csv"
    args = ("--sensor", "ex_a", "--sensor", "ex_b", *WINDOW, "--format", "csv", "--out", str(out))
    result = await asyncio.to_thread(export, settings, *args)
    assert result.returncode == 0, result.stderr
    assert "export [" in result.stderr and f"{2 * TICKS:,}/{2 * TICKS:,} rows" in result.stderr
    with out.open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["sensor", "taken_on", "value"]
    assert len(rows) == 1 + 2 * TICKS
    # In time order, then by sensor: a tick's readings side by side.
    assert [row[0] for row in rows[1:5]] == ["ex_a", "ex_b", "ex_a", "ex_b"]
    times = [datetime.fromisoformat(row[1]) for row in rows[1:]]
    assert times == sorted(times)
    first = datetime.fromisoformat(rows[1][1])
    assert rows[1][1].endswith("Z") and "T" in rows[1][1]
    assert first == START + timedelta(milliseconds=7)
    stored = await db.fetch(
        "SELECT value FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id "
        "WHERE s.name = 'ex_a' ORDER BY taken_on"
    )
    assert [float(row[2]) for row in rows[1:] if row[0] == "ex_a"] == [r["value"] for r in stored]
    assert await asyncio.to_thread(os.listdir, tmp_path) == ["readings.csv"]


async def test_parquet_reads_back_and_rollups_export_too(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await fill(db)
    raw = tmp_path / "raw.parquet"
    args = ("--sensor", "ex_b", *WINDOW, "--format", "parquet", "--out", str(raw))
    result = await asyncio.to_thread(export, settings, *args)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(raw)
    assert table.column_names == ["sensor", "taken_on", "value"]
    assert table.num_rows == TICKS
    assert table.column("taken_on")[0].as_py() == START + timedelta(milliseconds=7)
    minutes = tmp_path / "minutes.csv"
    args = ("--sensor", "ex_a", *WINDOW, "--resolution", "1m", "--format", "csv")
    result = await asyncio.to_thread(export, settings, *args, "--out", str(minutes))
    assert result.returncode == 0, result.stderr
    with minutes.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert sum(int(row["count"]) for row in rows) == TICKS
    assert all(float(row["min"]) <= float(row["mean"]) <= float(row["max"]) for row in rows)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("--sensor", "nope", *WINDOW), "no sensor named 'nope'"),
        (("--sensor", "ex_a", "--since", "0s", "--until", "1h"), "--since must be before --until"),
        (("--sensor", "ex_a", "--since", "yesterday"), "--since 'yesterday'"),
    ],
)
async def test_a_bad_export_is_one_line_and_leaves_no_file(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path, args: tuple[str, ...], text: str
) -> None:
    await fill(db)
    out = tmp_path / "x.csv"
    result = await asyncio.to_thread(export, settings, *args, "--format", "csv", "--out", str(out))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert text in line
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_a_window_of_many_stretches_has_every_row_once_in_time_order(
    db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fill(db)
    monkeypatch.setattr(export_module, "CHUNK_ROWS", 7)
    since, until = START - timedelta(seconds=1), START + timedelta(minutes=2)
    job = await plan(db, ["ex_b", "ex_a"], since, until, Resolution.RAW)
    stretches = job.stretches()
    assert len(stretches) > 10 and stretches[0][0] == since and stretches[-1][1] == until
    assert all(a[1] == b[0] for a, b in itertools.pairwise(stretches))
    out = io.BytesIO()
    assert await export_csv(db, job, out, lambda _: None) == job.rows == 2 * TICKS
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))[1:]
    keys = [(datetime.fromisoformat(at), name) for name, at, _ in rows]
    assert keys == sorted(keys) and len(set(keys)) == 2 * TICKS
