"""The operator's alarm management, driven by its keys against a real plant (coordinator and
datamanager as child processes): acknowledge with a comment (A), comment (c), acknowledge all
shown (ctrl+a, confirmed), shelve (s) and the shelved list (S, u), the limits form (e). Every
assertion reads what the app shows and what PostgreSQL stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from controlroom.config import Settings
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm
from controlroom.tui import ControlRoom
from controlroom.tui.alarms.shelved_screen import ShelvedScreen
from controlroom.tui.dialogs.choice import ChoiceDialog
from controlroom.tui.dialogs.shelve import ShelveDialog
from controlroom.tui.dialogs.text_dialog import TextDialog
from controlroom.tui.limits.limits_form import LimitsForm
from tests.support import Worker, until, wait_for

OPERATOR = "alarm-test"  # a display name only
ACTOR = "guest"  # who acted, as recorded: the broker login (user_id)
SIZE = (120, 34)


@pytest.fixture
def hot_plant(start_worker: Callable[..., Worker]) -> None:
    """Two sensors held at 10..11 with a safe range of 0..5: each beyond its H limit (high,
    from the safe range: no definitions are stored for them)."""
    start_worker("coordinator")
    start_worker("datamanager")
    for name in ("hot_a", "hot_b"):
        start_worker(
            "sensor", "--name", name, "--min", "10", "--max", "11", "--step", "0.1",
            "--freq", "5", "--unit", "C", "--safe-min", "0", "--safe-max", "5",
        )  # fmt: skip


def alarms_of(app: ControlRoom, sensor: str) -> list[Alarm]:
    return [a for a in app.alarm_panel.alarms if a.sensor == sensor and a.active]


async def panel_on(pilot: Pilot[None], app: ControlRoom, sensor: str) -> Alarm:
    """Focus the alarm panel with its cursor on the sensor's active alarm."""
    await until(lambda: alarms_of(app, sensor), f"the alarm of {sensor} in the panel")
    app.alarm_panel.focus()
    await pilot.pause()
    await pilot.press("home")
    panel = app.alarm_panel

    def on_it() -> bool:
        return panel.selected is not None and panel.selected in alarms_of(app, sensor)

    # The panel re-sorts as alarms come and go, so the alarm may move above the cursor: at the
    # bottom, start again from the top; a deadline rather than a loop that might never end.
    deadline = time.monotonic() + 20
    while not on_it():
        assert time.monotonic() < deadline, f"the cursor never reached the alarm of {sensor}"
        await pilot.press("home" if panel.cursor >= len(panel.alarms) - 1 else "down")
    alarm = panel.selected
    assert alarm is not None
    return alarm


async def logged(db: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT sensor, detail FROM action_log WHERE operator = $1 AND action = $2 ORDER BY at",
        ACTOR,
        action,
    )
    return rows


async def test_acknowledge_with_a_comment_and_comment_and_acknowledge_all(
    settings: Settings, hot_plant: None, db: asyncpg.Connection, tmp_path: Path
) -> None:
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        high = await panel_on(pilot, app, "hot_a")
        await pilot.press("A")
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"valve checked", "enter")

        async def comment_stored(alarm_id: str, text: str) -> bool:
            return bool(
                await db.fetchval(
                    "SELECT count(*) FROM alarm_comment WHERE alarm_id = $1 AND text = $2"
                    " AND by = $3",
                    alarm_id,
                    text,
                    ACTOR,
                )
            )

        await wait_for(lambda: comment_stored(high.id, "valve checked"), what="the ack's comment")
        await until(lambda: app.model.alarms[high.id].acked_by == ACTOR, "the ack seen")

        critical = await panel_on(pilot, app, "hot_b")
        await pilot.press("c")
        await pilot.press("enter")  # empty: refused, not sent
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"operator on the way", "enter")
        await wait_for(lambda: comment_stored(critical.id, "operator on the way"), what="comment")
        assert state_of(app.model.alarms[critical.id]).needs_ack  # a comment is not an ack
        await until(lambda: app.model.alarms[critical.id].comments, "the comment on the alarm")

        app.table.focus()
        await pilot.press("ctrl+a")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        await pilot.press("y")
        await until(
            lambda: not any(state_of(a).needs_ack for a in app.alarm_panel.alarms),
            "every alarm shown acknowledged",
        )
        acks = await wait_for(lambda: logged(db, "ack"), what="the acknowledgements logged")
        assert {r["sensor"] for r in acks} >= {"hot_a", "hot_b"}
        assert len(await logged(db, "comment")) >= 1


async def test_shelve_the_shelved_list_and_unshelve(
    settings: Settings, hot_plant: None, db: asyncpg.Connection, tmp_path: Path
) -> None:
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        alarm = await panel_on(pilot, app, "hot_a")
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, ShelveDialog)
        dialog.query_one("#for", Input).value = "30m"
        dialog.query_one("#reason", Input).value = "burner test"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(lambda: state_of(app.model.alarms[alarm.id]) is AlarmState.SHELVED, "shelved")
        stored = await wait_for(
            lambda: db.fetchrow(
                "SELECT kind, by, reason, until - at AS span FROM alarm_hold h"
                " JOIN sensor s ON s.id = h.sensor_id WHERE s.name = 'hot_a' AND level = 'H'"
                " AND kind IS NOT NULL"
            ),
            what="the hold in PostgreSQL",
        )
        assert (stored["kind"], stored["by"], stored["reason"]) == (
            "shelved", ACTOR, "burner test"
        )  # fmt: skip
        assert stored["span"].total_seconds() == 1800
        assert (
            "shelved until"
            in app.alarm_panel.render_line(
                [a.id for a in app.alarm_panel.alarms].index(alarm.id) + 1
            ).text
        )

        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, ShelvedScreen)
        await until(lambda: len(screen.rows.rows) == 1, "the shelved list")
        line = screen.rows.render_line(1).text
        assert "hot_a" in line and " H " in line and "burner test" in line and "left" in line
        await pilot.press("u")
        await until(lambda: not screen.rows.rows, "the list empty after unshelving")
        await until(
            lambda: state_of(app.model.alarms[alarm.id]) is AlarmState.UNACKED,
            "back, unacknowledged as new",
        )
        await pilot.press("escape")
        assert len(await logged(db, "shelved")) == 1
        await wait_for(lambda: logged(db, "unhold"), what="the unshelving logged")


async def test_the_limits_form_changes_a_limit_through_the_coordinators(
    settings: Settings, hot_plant: None, db: asyncpg.Connection, tmp_path: Path
) -> None:
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await panel_on(pilot, app, "hot_a")
        await pilot.press("e")
        form = await until(
            lambda: app.screen if isinstance(app.screen, LimitsForm) else None, "form"
        )
        assert form.query_one("#h-value", Input).value == "5"  # the safe range's
        assert form.query_one("#hh-value", Input).value == ""  # none
        form.query_one("#hh-value", Input).value = "12"
        form.query_one("#h-value", Input).value = "20"  # above HH: refused as typed
        await pilot.pause()
        assert "must be below" in str(form.query_one("#set-problem").render())
        form.query_one("#h-value", Input).value = "9"
        form.query_one("#h-priority", Select).value = "medium"
        form.query_one("#l-value", Input).value = ""  # no L any more
        form.query_one("#reason", Input).value = "new burner, new limits"
        await pilot.pause()
        await pilot.press("ctrl+s")

        async def stored() -> list[asyncpg.Record]:
            rows: list[asyncpg.Record] = await db.fetch(
                "SELECT level, value, priority FROM alarm_limit l JOIN sensor s"
                " ON s.id = l.sensor_id WHERE s.name = 'hot_a' ORDER BY level"
            )
            return rows

        async def changed() -> list[asyncpg.Record] | None:
            rows = await stored()
            return rows if {r["level"] for r in rows} == {"H", "HH"} else None

        rows = {r["level"]: (r["value"], r["priority"]) for r in await wait_for(changed)}
        assert rows["H"] == (9.0, "medium") and rows["HH"] == (12.0, "critical")
        change = await wait_for(lambda: logged(db, "limits"), what="the change logged")
        assert "new burner, new limits" in str(change[0]["detail"])
