"""The alarm history (h) and the action log (l) against a real plant's database: filters, and
`s` saving exactly the rows listed as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import asyncpg
import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from controlroom.clock import now_us, us_to_datetime
from controlroom.config import Settings
from controlroom.db.alarm_log import ALARM_STATE_SQL, AlarmFilter, alarm_history
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.tui import ControlRoom
from controlroom.tui.history.action_log import ActionLogScreen
from controlroom.tui.history.alarm_history import AlarmHistoryScreen
from controlroom.tui.history.log_screen import LogScreen
from tests.support import until

S = 1_000_000
SIZE = (120, 30)


async def store(db: asyncpg.Connection, now: int) -> None:
    """Four alarms, one in each state an activation records, and two operator actions."""
    boiler = await db.fetchval("SELECT id FROM sensor WHERE name = 'boiler_temp_out'")
    turbine = await db.fetchval("SELECT id FROM sensor WHERE name = 'turbine_temp_out'")
    at = us_to_datetime
    rows = [
        ("active", boiler, now - 100 * S, None, None, None),
        ("acked", boiler, now - 200 * S, None, now - 150 * S, "ann"),
        ("returned", turbine, now - 300 * S, now - 250 * S, None, None),
        ("normal", turbine, now - 400 * S, now - 350 * S, now - 340 * S, "bob"),
        ("old", turbine, now - 3 * 86_400 * S, now - 3 * 86_400 * S + S, None, None),
    ]
    for key, sensor, raised, cleared, acked, by in rows:
        await db.execute(
            "INSERT INTO alarm (id, sensor_id, kind, level, raised_at, value, limit_value, peak,"
            " cleared_at, acked_at, acked_by)"
            " VALUES ($1, $2, 'HIGH', 'H', $3, 1, 0, 1, $4, $5, $6)",
            key, sensor, at(raised), cleared and at(cleared), acked and at(acked), by,
        )  # fmt: skip
    for seconds, operator, action, sensor, detail in (
        (150, "ann", "ack", None, {"alarm_id": "acked"}),
        (120, "bob", "stop", "turbine_temp_out", {}),
    ):
        await db.execute(
            "INSERT INTO action_log (at, operator, action, sensor, detail)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)",
            at(now - seconds * S), operator, action, sensor, orjson.dumps(detail).decode(),
        )  # fmt: skip


async def store_holds(db: asyncpg.Connection, now: int) -> None:
    """Alarms whose point is held, or was: shelved for a time (in force, and run out),
    one-shot (active, and cleared), suppressed, out of service, released after an ack."""
    boiler = await db.fetchval("SELECT id FROM sensor WHERE name = 'boiler_temp_out'")
    at = us_to_datetime
    hour = 3600 * S
    rows = [  # id, cleared, acked, hold kind, hold at, hold until
        ("shelved", None, None, "shelved", now - hour, now + hour),
        ("ran-out", None, None, "shelved", now - 2 * hour, now - hour),
        ("one-shot", None, None, "shelved", now - hour, None),
        ("one-shot-over", now - 10 * S, None, "shelved", now - hour, None),
        ("suppressed", None, None, "suppressed by design", now - hour, None),
        ("out", now - 10 * S, now - 5 * S, "out of service", now - hour, None),
        ("released", None, now - 2 * hour, None, now - hour, None),
        ("released-cleared", now - 90 * 60 * S, None, None, now - hour, None),
    ]
    for key, cleared, acked, kind, hold_at, ends in rows:
        await db.execute(
            "INSERT INTO alarm (id, sensor_id, kind, level, raised_at, value, limit_value, peak,"
            " cleared_at, acked_at, acked_by, hold_kind, hold_at, hold_by, hold_reason,"
            " hold_until) VALUES ($1, $2, 'HIGH', 'H', $3, 1, 0, 1, $4, $5, $6, $7, $8,"
            " 'ann', 'test', $9)",
            key, boiler, at(now - 3 * hour), cleared and at(cleared), acked and at(acked),
            acked and "ann", kind, at(hold_at), ends and at(ends),
        )  # fmt: skip


async def test_the_state_in_sql_is_state_of(settings: Settings, db: asyncpg.Connection) -> None:
    """The one state rule, said twice (Python and SQL): held together on every state."""
    now = now_us()
    await store(db, now)
    await store_holds(db, now)
    found = await alarm_history(db, AlarmFilter())
    for alarm in found:
        in_sql = await db.fetchval(
            f"SELECT {ALARM_STATE_SQL} FROM alarm a WHERE a.id = $1", alarm.id
        )
        assert in_sql == state_of(alarm, now_us()).value, alarm.id
    assert {state_of(a, now) for a in found} == set(AlarmState)


async def shown(app: ControlRoom) -> list[str]:
    screen = app.screen
    assert isinstance(screen, LogScreen)
    await until(lambda: screen.loaded, "the rows loaded")
    return [str(getattr(row, "id", None) or getattr(row, "action", "")) for row in screen.rows.rows]


async def set_field(pilot: Pilot[None], app: ControlRoom, field: str, value: str) -> None:
    screen = app.screen
    assert isinstance(screen, LogScreen)
    widget = screen.query_one(f"#{field}")
    if isinstance(widget, Select):
        if value:
            widget.value = value
        else:
            widget.clear()
    else:
        assert isinstance(widget, Input)
        widget.value = value
    await pilot.pause()


async def saved_rows(pilot: Pilot[None], app: ControlRoom) -> list[dict[str, str]]:
    screen = app.screen
    assert isinstance(screen, LogScreen)
    screen.rows.focus()
    screen.saved = None
    await pilot.press("s")
    await until(lambda: screen.saved is not None, "the CSV file")
    assert screen.saved is not None
    text = await asyncio.to_thread(screen.saved.read_text)
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_alarm_history_filters_and_saves_what_it_lists(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await store(db, now_us())
    app = ControlRoom(settings, operator="log-test", log_dir=tmp_path)
    app.export_dir = tmp_path
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        assert isinstance(app.screen, AlarmHistoryScreen)
        assert await shown(app) == ["active", "acked", "returned", "normal"]  # the last 24 h
        rows = await saved_rows(pilot, app)
        assert [r["state"] for r in rows] == [s.value for s in (
            AlarmState.UNACKED, AlarmState.ACKED, AlarmState.RETURNED_UNACKED, AlarmState.NORMAL
        )]  # fmt: skip
        assert rows[1]["acked_by"] == "ann" and rows[1]["priority"] == "high"
        assert rows[1]["level"] == "H"
        assert rows[0]["raised_at"].endswith("Z")

        await set_field(pilot, app, "sensor", "turbine")
        assert await shown(app) == ["returned", "normal"]
        await set_field(pilot, app, "since", "7d")
        assert await shown(app) == ["returned", "normal", "old"]
        await set_field(pilot, app, "until", "1d")  # a day ago: only what was raised before
        assert await shown(app) == ["old"]
        moment = us_to_datetime(now_us() - 86_400 * S).strftime("%Y-%m-%dT%H:%M:%SZ")
        await set_field(pilot, app, "until", moment)  # the same end, written as a moment
        assert await shown(app) == ["old"]
        await set_field(pilot, app, "until", "")
        await set_field(pilot, app, "state", AlarmState.RETURNED_UNACKED.value)
        assert await shown(app) == ["returned", "old"]
        assert [r["sensor"] for r in await saved_rows(pilot, app)] == ["turbine_temp_out"] * 2
        await set_field(pilot, app, "state", "")
        await set_field(pilot, app, "sensor", "")
        await set_field(pilot, app, "text", "BOB")  # who acknowledged, case aside
        assert await shown(app) == ["normal"]
        await set_field(pilot, app, "priority", "critical")  # these are high
        assert await shown(app) == []
        await set_field(pilot, app, "since", "yesterday")
        screen = app.screen
        assert isinstance(screen, LogScreen)
        await until(lambda: screen.error is not None, "the field's error")
        assert "not a span like 15m, 24h or 7d" in (screen.error or "")
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)


async def test_the_action_log_says_who_did_what_and_saves_it(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await store(db, now_us())
    app = ControlRoom(settings, operator="log-test", log_dir=tmp_path)
    app.export_dir = tmp_path
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, ActionLogScreen)
        assert await shown(app) == ["stop", "ack"]
        line = screen.rows.render_line(2).text
        assert "ann" in line and "ack" in line and "alarm_id=acked" in line
        rows = await saved_rows(pilot, app)
        assert [(r["operator"], r["action"], r["sensor"]) for r in rows] == [
            ("bob", "stop", "turbine_temp_out"), ("ann", "ack", ""),
        ]  # fmt: skip
        assert orjson.loads(rows[1]["detail"]) == {"alarm_id": "acked"}
        await set_field(pilot, app, "text", "turbine")
        assert await shown(app) == ["stop"]


@pytest.mark.parametrize(
    ("text", "pattern"), [("50%", r"%50\%%"), ("a_b", r"%a\_b%"), ("back\\slash", r"%back\\slash%")]
)
def test_free_text_is_taken_literally(text: str, pattern: str) -> None:
    where, args = AlarmFilter(text=text).where()
    assert args == [pattern] and "ILIKE $1" in where
