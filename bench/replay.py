"""Bench: the control room replaying a plant of 1,000 sensors at 60x, in a real terminal.

The plant's history is written straight into PostgreSQL (SENSORS sensors at 1 Hz for
HISTORY_S seconds, by COPY), then `controlroom --replay MOMENT --replay-speed 60` runs in
tmux from the start of that history. Reported: the UI process's CPU share of one core while
it replays (the issue's bound: under 30%), how much history it moved through per second of
real time (60 when it keeps up), and the readings that represents.

    python -m bench replay [--duration S]
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import BenchPlant
from bench.tui import UI, have_tmux, tui_in_tmux
from controlroom.clock import now_us, us_to_datetime
from controlroom.db import connect

SENSORS = 1000
HISTORY_S = 900  # 15 minutes of history: 15 s of replay at 60x
SPEED = 60
READY_TIMEOUT_S = 60.0
TARGET_CPU_SHARE = 0.30
BANNER = re.compile(r"REPLAY\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


async def run(duration: float) -> dict[str, Any]:
    if not have_tmux():
        raise RuntimeError("the replay case needs tmux (apt-get install -y tmux)")
    duration = min(duration, HISTORY_S / SPEED - 3)  # measured while there is history left
    async with BenchPlant() as plant:
        start_us = now_us() - (HISTORY_S + 60) * 1_000_000
        rows = await _fill(plant, start_us)
        moment = us_to_datetime(start_us).strftime("%Y-%m-%dT%H:%M:%SZ")
        with tempfile.TemporaryDirectory(prefix="bench-replay-") as workdir:
            async with tui_in_tmux(
                plant.settings, Path(workdir), f"--replay={moment}", "--replay-speed", str(SPEED)
            ) as ui:
                first = await _replaying(ui)
                cpu_before, t0 = ui.process.cpu_times(), time.monotonic()
                await asyncio.sleep(duration)
                cpu_after, t1 = ui.process.cpu_times(), time.monotonic()
                last = _position(ui)
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    wall = t1 - t0
    moved = (last - first) if last is not None else 0.0
    share = cpu / wall
    return {
        "sensors": SENSORS,
        "history_rows": rows,
        "speed": SPEED,
        "duration_s": round(wall, 1),
        "ui_cpu_share": round(share, 3),
        "history_s_per_s": round(moved / wall, 1),
        "readings_replayed_per_s": round(moved / wall * SENSORS),
        "meets_target": share < TARGET_CPU_SHARE and moved / wall >= SPEED * 0.9,
        "target_cpu_share_below": TARGET_CPU_SHARE,
    }


async def _fill(plant: BenchPlant, start_us: int) -> int:
    """SENSORS sensors at 1 Hz for HISTORY_S seconds from `start_us`, by COPY."""
    connection = await connect(plant.settings)
    try:
        ids = [
            row["id"]
            for row in await connection.fetch(
                "INSERT INTO sensor (name, unit_type, min_safe_value, max_safe_value, period_s) "
                "SELECT 'r-' || lpad(n::text, 4, '0'), 'C', 10, 90, 1.0 "
                "FROM generate_series(1, $1) n RETURNING id",
                SENSORS,
            )
        ]
        run_id = await connection.fetchval(
            "INSERT INTO source_run (source, run) VALUES ('r-gateway', 'bench') RETURNING id"
        )
        rows = 0
        for second in range(HISTORY_S):
            at = datetime.fromtimestamp(start_us / 1e6 + second, tz=UTC)
            records = [
                (sensor, at, 50.0 + 30.0 * ((second + index) % 60) / 60, run_id, second + 1)
                for index, sensor in enumerate(ids)
            ]
            await connection.copy_records_to_table(
                "sensor_reading",
                records=records,
                columns=["sensor_id", "taken_on", "value", "run_id", "seq"],
            )
            rows += len(records)
        await connection.execute("ANALYZE sensor_reading")
    finally:
        await connection.close()
    return rows


def _position(ui: UI) -> float | None:
    """The replay's moment on the banner, in seconds since the epoch."""
    found = BANNER.search(ui.screen())
    if found is None:
        return None
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").timestamp()


async def _replaying(ui: UI) -> float:
    """Wait for the banner to show the replay moving; its position then."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen: float | None = None
    while time.monotonic() < deadline:
        position = _position(ui)
        if position is not None and seen is not None and position > seen:
            return position
        seen = position if position is not None else seen
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the replay did not start within {READY_TIMEOUT_S:.0f}s:\n{ui.screen()}")
