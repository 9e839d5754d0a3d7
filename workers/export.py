"""`controlroom-worker export`: some sensors' readings or rollups over a window, to CSV or Parquet.

Streams from PostgreSQL in constant memory (controlroom.db.export) with a progress bar on
stderr; the file is written beside its destination and renamed into place once complete, so
an interrupted export never leaves a file that looks whole.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from controlroom.config import Settings
from controlroom.db import connect
from controlroom.db.export import export_csv, export_parquet, plan
from controlroom.db.history import Resolution
from controlroom.errors import ConfigError
from workers.audit import parse_since

HELP = "export sensors' readings (or 1m/1h rollups) over a window to CSV or Parquet"

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sensor", action="append", required=True, metavar="NAME", help="a sensor (repeatable)"
    )
    parser.add_argument(
        "--since", required=True, metavar="WHEN", help="ISO 8601 time or an age such as 7d"
    )
    parser.add_argument("--until", metavar="WHEN", help="ISO 8601 time or an age (default now)")
    parser.add_argument(
        "--resolution",
        choices=[r.value for r in Resolution],
        default="raw",
        help="raw readings (default) or the 1-minute or 1-hour rollups",
    )
    parser.add_argument("--format", choices=["csv", "parquet"], required=True)
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")


class ProgressBar:
    """One line on stderr, redrawn at most five times a second."""

    def __init__(self, total: int, stream: object = None) -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.started = self.shown = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.shown >= 0.2:
            self.shown = now
            self._draw(done, now)

    def _draw(self, done: int, now: float, end: str = "") -> None:
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = done / max(now - self.started, 1e-9)
        print(
            f"\rexport [{bar:30}] {share:4.0%} {done:,}/{self.total:,} rows, {rate:,.0f} rows/s",
            end=end,
            file=self.stream,  # type: ignore[arg-type]
            flush=True,
        )

    def finish(self, done: int) -> None:
        self._draw(done, time.monotonic(), end="\n")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    until = parse_since(args.until, now) if args.until else now
    assert since is not None and until is not None
    out: Path = args.out
    if not out.parent.is_dir():
        raise ConfigError(f"--out {str(out)!r}: no such folder")
    partial = out.with_name(f".{out.name}.partial")
    connection = await connect(settings)
    try:
        job = await plan(connection, args.sensor, since, until, Resolution(args.resolution))
        bar = ProgressBar(job.rows)
        try:
            if args.format == "csv":
                with partial.open("wb") as file:
                    written = await export_csv(connection, job, file, bar)
            else:
                written = await export_parquet(connection, job, partial, bar)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        bar.finish(written)
    finally:
        await connection.close()
    log.info(
        "exported %d rows of %d sensors (%s) to %s",
        written,
        len(job.sensors),
        job.resolution.value,
        out,
    )
    if written != job.rows:
        log.error("the file has %d rows but the database had %d", written, job.rows)
        return 1
    return 0
