"""The alarm figures from PostgreSQL: the query, the header's FLOOD and CHATTER, the KPI screen
(k), against a real plant's database (alarm rows written as the datamanager writes them)."""

from __future__ import annotations

import io
from pathlib import Path

import asyncpg
from rich.console import Console

from controlroom.clock import now_us, us_to_datetime
from controlroom.config import Settings
from controlroom.db.alarm_figures import figures
from controlroom.tui import ControlRoom
from controlroom.tui.alarms.kpi_screen import KpiScreen, describe
from tests.support import until

S = 1_000_000


async def store_alarms(db: asyncpg.Connection, now: int) -> None:
    """A flood of 12 in the last 10 minutes, 3 of them one point's within a minute (chatter),
    and one alarm active for two days (stale)."""
    sensor = await db.fetchval("SELECT id FROM sensor WHERE name = 'boiler_temp_out'")
    other = await db.fetchval("SELECT id FROM sensor WHERE name = 'turbine_temp_out'")
    rows: list[tuple[str, int, int, int | None]]
    rows = [(f"f{i}", other, now - (60 + i * 40) * S, now - (50 + i * 40) * S) for i in range(9)]
    rows += [(f"c{i}", sensor, now - (10 + i * 20) * S, now - (5 + i * 20) * S) for i in range(3)]
    rows.append(("stale", sensor, now - 2 * 86_400 * S, None))
    for key, sensor_id, raised, cleared in rows:
        await db.execute(
            "INSERT INTO alarm (id, sensor_id, kind, raised_at, value, limit_value, peak,"
            " cleared_at) VALUES ($1, $2, 'HIGH', $3, 1, 0, 1, $4)",
            key,
            sensor_id,
            us_to_datetime(raised),
            None if cleared is None else us_to_datetime(cleared),
        )


async def test_the_query_gives_the_figures(settings: Settings, db: asyncpg.Connection) -> None:
    now = now_us()
    await store_alarms(db, now)
    shown = await figures(db, now)
    assert shown.rate == 12 and shown.flood
    assert [(c.point, c.most_in_a_minute) for c in shown.chattering_now] == [
        ("boiler_temp_out H", 3)
    ]
    assert [a.point for a in shown.stale] == ["boiler_temp_out H"]
    assert shown.frequent == [("turbine_temp_out H", 9), ("boiler_temp_out H", 3)]


async def test_the_header_says_flood_and_chatter_and_k_shows_the_figures(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await store_alarms(db, now_us())
    app = ControlRoom(settings, operator="kpi-test", log_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(lambda: app.header.figures is not None, "the figures in the header")
        header = str(app.header.render())
        assert "FLOOD 12/10 min" in header and "CHATTER 1" in header
        await pilot.press("k")
        screen = app.screen
        assert isinstance(screen, KpiScreen)
        await until(lambda: screen.shown is not None, "the KPI screen's figures")
        assert screen.shown is not None
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(describe(screen.shown))
        text = console.export_text()
        assert "! FLOOD (above 10)" in text
        assert "! CHATTERING" in text and "turbine_temp_out H" in text
        assert "Stale" in text and "48.0 h" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, KpiScreen)
