"""Saving what a screen shows as a CSV file (`s`): the detail screen's window, the alarm
history, the action log. The rows come from the one CSV writer (`controlroom.db.export.
copy_csv`); this gathers them, names the file and writes it off the event loop."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

import asyncpg

from controlroom.clock import us_to_datetime
from controlroom.db.history import History

Write = Callable[[asyncpg.Connection, BinaryIO], Awaitable[int]]


def csv_path(folder: Path, at_us: int, *parts: str) -> Path:
    """FOLDER/part_part_20261203T153000Z.csv, with each part safe for a file name."""
    stamp = us_to_datetime(at_us).strftime("%Y%m%dT%H%M%SZ")
    safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip("-") for part in parts]
    return folder / ("_".join([*filter(None, safe), stamp]) + ".csv")


async def save_csv(history: History, path: Path, write: Write) -> int:
    """Run `write` on the history's connection into memory, then write the file; returns the
    rows. DatabaseUnavailable or OSError on failure (the screen says it in one line)."""
    buffer = io.BytesIO()
    rows = await history.run(lambda connection: write(connection, buffer))
    await asyncio.to_thread(path.write_bytes, buffer.getvalue())
    return rows
