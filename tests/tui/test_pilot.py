"""The control room driven by its keys (App.run_test) against a real plant in its own namespace.

A real coordinator and datamanager run as child processes; sensors are started from the spawn
form (as an operator does) or as workers. Assertions read what the app shows and what
PostgreSQL stored; every wait is a poll with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Select

from controlroom.broker.feed import ViewerFeed
from controlroom.broker.publishing import json_message
from controlroom.broker.topology import Topology, source_key, warning_key
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import SensorInfo
from controlroom.provision import source_settings
from controlroom.tui import ControlRoom
from controlroom.tui.detail.detail_screen import DetailScreen
from controlroom.tui.dialogs.choice import ChoiceDialog
from controlroom.tui.messages import (
    AckRequested,
    ChildExited,
    ScenarioStarted,
    SensorSpawned,
    StopRequested,
)
from controlroom.tui.sensors.sensor_table import TWIN_MARK
from controlroom.tui.spawn.spawn_form import SpawnForm
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import AlarmEvent, SourceState, TwinWarning
from tests.support import PlantRoles, Worker, until, wait_for

OPERATOR = "pilot-test"  # a display name only
ACTOR = "guest"  # who acted: the broker login, as the broker vouches for it (user_id)
SIZE = (110, 32)
# A sensor beyond its safe range from its first reading: it raises a HIGH alarm at once.
HOT_PROBE = (
    "sensor", "--name", "hot_probe", "--min", "10", "--max", "11", "--step", "0.1",
    "--freq", "5", "--unit", "C", "--safe-min", "0", "--safe-max", "5",
)  # fmt: skip


async def select(pilot: Pilot[None], app: ControlRoom, sensor: str) -> None:
    """Put the table's cursor on a sensor, with the keys an operator would use."""
    await pilot.press("home")
    names = [row.name for row in app.table.rows]
    for _ in range(names.index(sensor)):
        await pilot.press("down")
    assert app.table.selected is not None and app.table.selected.name == sensor


def row_state(app: ControlRoom, sensor: str) -> str | None:
    for row in app.table.rows:
        if row.name == sensor:
            return row.state
    return None


async def test_a_spawned_sensor_appears_and_a_stopped_one_turns_offline(
    settings: Settings, pipeline: None, tmp_path: Path
) -> None:
    said: list[Message] = []
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    try:
        async with app.run_test(size=SIZE, message_hook=said.append) as pilot:
            await until(lambda: app.header.broker and app.header.database, "connections")
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, SpawnForm)
            form.query_one("#preset", Select).value = "turbine_temp_out"
            await pilot.pause()
            name_field = form.query_one("#name", Input)
            assert name_field.value == "turbine_temp_out_2"  # the seeded name is taken
            form.query_one("#freq", Input).value = "5"
            await pilot.press("ctrl+s")
            await until(lambda: not isinstance(app.screen, SpawnForm), "form closed")
            spawned = await until(
                lambda: [m for m in said if isinstance(m, SensorSpawned)], "SensorSpawned"
            )
            assert [m.name for m in spawned] == ["turbine_temp_out_2"]
            assert await asyncio.to_thread(Path(spawned[0].log_path).exists)

            await until(
                lambda: row_state(app, "turbine_temp_out_2") in ("NORMAL", "HIGH", "LOW"),
                "the spawned sensor live on the main screen",
            )
            view = app.model.sensors["turbine_temp_out_2"]
            assert view.info.serial_no == "XTLR-145" and view.info.unit == "C"
            await until(lambda: len(view.recent) >= 3, "live readings")

            await select(pilot, app, "turbine_temp_out_2")
            await pilot.press("x")
            assert isinstance(app.screen, ChoiceDialog)
            await pilot.press("y")
            await until(
                lambda: row_state(app, "turbine_temp_out_2") == "OFFLINE",
                "the stopped sensor OFFLINE",
            )
            stops = await until(
                lambda: [m.sensor for m in said if isinstance(m, StopRequested)], "StopRequested"
            )
            assert stops == ["turbine_temp_out_2"]
            # The remote stop ended the child this session started.
            await until(lambda: not app.children_processes.running(), "child process gone")
    finally:
        await asyncio.to_thread(app.children_processes.stop_all)


async def test_under_roles_a_sensor_started_by_ann_runs_as_its_source_and_her_stop_reaches_it(
    roles: PlantRoles, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    """An operator's login may not publish readings: the control room starts a sensor under
    its source's login (`controlroom up` passes `source_settings`), here the shared one, and
    ann's stop reaches it through the coordinator under her name."""
    start_worker("coordinator", env=roles.env("coordinator"))
    start_worker("datamanager", env=roles.env("datamanager"))
    app = ControlRoom(
        roles.of("ann"),
        operator="Ann",
        log_dir=tmp_path / "logs",
        sources_as=partial(source_settings, roles.settings, roles.secrets),
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: app.header.broker and app.header.database, "connections")
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, SpawnForm)
            form.query_one("#preset", Select).value = "turbine_temp_out"
            await pilot.pause()
            name = form.query_one("#name", Input).value
            form.query_one("#freq", Input).value = "5"
            await pilot.press("ctrl+s")
            await until(
                lambda: row_state(app, name) in ("NORMAL", "HIGH", "LOW"),
                "the sensor ann started live on the main screen",
            )
            (child,) = app.children_processes.processes
            await select(pilot, app, name)
            await pilot.press("x")
            await pilot.press("y")
            await until(lambda: row_state(app, name) == "OFFLINE", "the stopped sensor OFFLINE")
            await until(lambda: not child.running(), "the sensor exited")
        plant = roles.settings.plant
        assert f"stop requested for {name} by ann (via {plant}.coordinator)" in child.log_text()
    finally:
        await asyncio.to_thread(app.children_processes.stop_all)


async def test_an_alarm_shows_and_its_acknowledgement_is_stored_and_seen_by_others(
    settings: Settings,
    pipeline: None,
    start_worker: Callable[..., Worker],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    start_worker(*HOT_PROBE)
    said: list[Message] = []
    # Another viewer (as a second control room or the bridge would be) on the same plant.
    heard: list[Alarm] = []
    other = ViewerFeed(
        settings,
        "viewer",
        lambda event: heard.append(event.alarm) if isinstance(event, AlarmEvent) else None,
        lambda state: None,
    )
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    async with (
        app.run_test(size=SIZE, message_hook=said.append) as pilot,
        asyncio.TaskGroup() as group,
    ):
        other_task = group.create_task(other.run())
        await until(
            lambda: any(a.sensor == "hot_probe" for a in app.alarm_panel.alarms),
            "the alarm in the panel",
        )
        await until(lambda: other.connected, "the other viewer connected")
        alarm = app.alarm_panel.alarms[0]
        assert alarm.kind.value == "HIGH" and alarm.acked_at is None
        await until(lambda: row_state(app, "hot_probe") == "HIGH", "the sensor's row HIGH")

        await select(pilot, app, "hot_probe")
        await pilot.press("a")
        # AckRequested is posted once the acknowledgement is published (a worker of the app).
        acks = await until(
            lambda: [m.alarm_id for m in said if isinstance(m, AckRequested)], "AckRequested"
        )
        assert acks == [alarm.id]

        async def stored() -> asyncpg.Record | None:
            return await db.fetchrow(
                "SELECT acked_by, acked_at FROM alarm WHERE id = $1 AND acked_at IS NOT NULL",
                alarm.id,
            )

        row = await wait_for(stored, what="the acknowledgement in PostgreSQL")
        assert row is not None and row["acked_by"] == ACTOR
        logged = await db.fetchval(
            "SELECT count(*) FROM action_log WHERE operator = $1 AND action = 'ack'", ACTOR
        )
        assert logged == 1
        # Every control room hears alarm.acked: this one too.
        await until(
            lambda: app.model.alarms[alarm.id].acked_by == ACTOR,
            "alarm.acked back on the events exchange",
        )

        # Its row says so once the 10 Hz redraw has shown it (a busy machine may have raised
        # more alarms meanwhile: find it).
        def acked_row() -> str:
            shown = [a.id for a in app.alarm_panel.alarms]
            if alarm.id not in shown:
                return ""
            return app.alarm_panel.render_line(shown.index(alarm.id) + 1).text

        await until(lambda: f"acked by {ACTOR}" in acked_row(), "the panel to show the ack")
        await until(
            lambda: any(a.id == alarm.id and a.acked_by == ACTOR for a in heard),
            "the acknowledgement at the other viewer",
        )
        other_task.cancel()


async def test_the_detail_screen_shows_stored_history(
    settings: Settings,
    pipeline: None,
    start_worker: Callable[..., Worker],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    start_worker(
        "sensor", "--name", "history_probe", "--min", "1", "--max", "2", "--step", "0.1",
        "--freq", "20",
    )  # fmt: skip

    async def stored() -> int:
        return int(
            await db.fetchval(
                "SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id "
                "WHERE s.name = 'history_probe'"
            )
        )

    async def enough() -> bool:
        return await stored() >= 20

    await wait_for(enough, what="readings in PostgreSQL")
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    app.export_dir = tmp_path
    async with app.run_test(size=SIZE) as pilot:
        await until(
            lambda: any(r.name == "history_probe" for r in app.table.rows),
            "the sensor on the main screen",
        )
        await select(pilot, app, "history_probe")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(lambda: screen.history_loaded, "history loaded")
        assert screen.stored_readings >= 20
        assert len(screen.chart_data().times) >= 5  # binned on the server, then live points
        status = str(screen.query_one("#history-status").render())
        assert "stored readings from PostgreSQL" in status
        await pilot.press("4")  # 24 h: down-sampled on the server
        await until(lambda: screen.window.label == "24 h" and screen.history_loaded, "24 h window")

        # 30 d and 1 y: from the rollups (none yet for a new sensor: an empty chart, no error).
        def shows(label: str) -> Callable[[], bool]:
            return lambda: screen.window.label == label and screen.history_loaded

        for key, label in (("6", "30 d"), ("7", "1 y"), ("2", "15 min")):
            screen.history_loaded = False
            await pilot.press(key)
            await until(shows(label), f"the {label} window")
            assert screen.history_error is None
        # `s` saves the window shown (15 min at 20 Hz: raw readings) as CSV.
        await pilot.press("s")
        await until(lambda: screen.saved is not None, "the window saved")
        assert screen.saved is not None and screen.saved.parent == tmp_path
        lines = (await asyncio.to_thread(screen.saved.read_text)).splitlines()
        assert lines[0] == "sensor,taken_on,value"
        assert len(lines) - 1 >= 20 and all(line.startswith("history_probe,") for line in lines[1:])
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_a_spawned_sensor_refused_its_name_is_reported_in_one_line(
    settings: Settings,
    start_worker: Callable[..., Worker],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The form cannot know every running name (here no coordinator has told it of `twin`):
    the child the broker refuses exits 2, and the operator reads its one line."""
    running = start_worker("sensor", "--name", "twin", "--freq", "5")
    await until(lambda: "publishing 1 sensors" in running.log_text(), "the first twin running")
    said: list[Message] = []
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    notes: list[str] = []
    notify = app.notify

    def noted(message: str, **options: Any) -> None:
        notes.append(message)
        notify(message, **options)

    monkeypatch.setattr(app, "notify", noted)
    try:
        async with app.run_test(size=SIZE, message_hook=said.append) as pilot:
            await until(lambda: app.header.broker and app.header.database, "connections")
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, SpawnForm)
            for field, value in {"name": "twin", "min": "1", "max": "2", "step": "0.1"}.items():
                form.query_one(f"#{field}", Input).value = value
            form.query_one("#freq", Input).value = "5"
            await pilot.press("ctrl+s")
            exits = await until(
                lambda: [m for m in said if isinstance(m, ChildExited)], "the refused child's exit"
            )
            assert exits[0].status == 2
            refusals = [note for note in notes if "sensor-twin exited with status 2" in note]
            assert len(refusals) == 1, notes
            assert "the name 'twin' is taken" in refusals[0] and "\n" not in refusals[0]
            assert running.running(), "the sensor that holds the name goes on"
    finally:
        await asyncio.to_thread(app.children_processes.stop_all)


async def test_a_twin_warning_is_a_notice_a_header_mark_and_a_mark_on_the_row(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a coordinator says when two processes read one sensor (here said by the test, on
    the events exchange, as the coordinator says it: tests/integration/test_twins.py)."""
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    notes: list[str] = []
    notify = app.notify

    def noted(message: str, **options: Any) -> None:
        notes.append(message)
        notify(message, **options)

    monkeypatch.setattr(app, "notify", noted)
    warning = TwinWarning("big-001", ["big-gateway", "big-001"], ["r1", "r2"], now_us())
    # The same two runs share a second sensor: one more row marked, no second notice.
    also = TwinWarning("big-002", ["big-gateway", "big-001"], ["r1", "r2"], now_us())
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection, app.run_test(size=SIZE) as pilot:
        await until(lambda: app.header.broker, "the broker")
        events = await Topology(settings.plant).events(await connection.channel())
        for key, message in (
            (source_key("big-001"), SourceState(SensorInfo("big-001"))),
            (warning_key("big-001"), warning),
            (source_key("big-002"), SourceState(SensorInfo("big-002"))),
            (warning_key("big-002"), also),
        ):
            await events.publish(json_message(encode(message), persistent=False), key)
        await until(lambda: len([r for r in app.table.rows if r.twin]) == 2, "the rows marked")
        assert app.header.twins == 2
        assert "2 TWIN SENSORS" in str(app.header.render())
        await pilot.pause()
        assert TWIN_MARK + "big-001" in str(app.table.render_row(0, SIZE[0])[0].text)
        assert [note for note in notes if "runs twice" in note] == [warning.describe()]


async def test_a_scenario_from_the_spawn_form_runs_and_the_header_says_so(
    settings: Settings, pipeline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[Message] = []
    notes: list[str] = []
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    real_notify = app.notify

    def notify(message: str, **options: Any) -> None:
        notes.append(message)
        real_notify(message, **options)

    monkeypatch.setattr(app, "notify", notify)
    try:
        async with app.run_test(size=SIZE, message_hook=said.append) as pilot:
            await until(lambda: app.header.broker and app.header.database, "connections")
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, SpawnForm)
            form.query_one("#scenario", Select).value = "stuck-sensor"
            await pilot.pause()
            form.query_one("#speed", Input).value = "20"
            await pilot.press("ctrl+s")
            await until(lambda: not isinstance(app.screen, SpawnForm), "form closed")
            assert [m.name for m in said if isinstance(m, ScenarioStarted)] == ["stuck-sensor"]
            await until(lambda: app.header.scenario == "stuck-sensor", "the header's mark")
            assert "SCENARIO stuck-sensor" in str(app.header.render())
            await until(
                lambda: row_state(app, "condensor_temp_out") == "STALE", "the stuck one silent"
            )
            # Stopped before its end from the command palette: its runner stops its sensors.
            (stop,) = [
                command
                for command in app.get_system_commands(app.screen)
                if command.title == "Stop scenario stuck-sensor"
            ]
            stop.callback()
            await until(lambda: not app.header.scenario, "the scenario stopped")
            await until(lambda: any("stopped at" in n for n in notes), "its end told")
            await until(
                lambda: row_state(app, "condensor_temp_out") == "OFFLINE", "its sensors gone"
            )
    finally:
        await asyncio.to_thread(app.children_processes.stop_all)
