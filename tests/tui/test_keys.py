"""Keys and mouse on the main screen, with deterministic data (no broker, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets import Input, Select

from controlroom.tui.detail.detail_screen import DetailScreen
from controlroom.tui.detail.history_chart import Scale
from controlroom.tui.detail.overlay_picker import OverlayPicker
from controlroom.tui.dialogs.help import HelpScreen
from controlroom.tui.spawn.spawn_form import SpawnForm
from tests.support import until, wait_for
from tests.tui.demo import NOW_US, demo_app, record


async def test_pause_freezes_the_rows_until_resumed() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.model.sensors["boiler_pressure_out"]
        await pilot.press("p")
        assert app.header.paused
        record(view, NOW_US + 1, 15.3333)
        app.model.values_changed = True
        app._redraw()  # what the 10 Hz redraw timer does
        shown = next(r for r in app.table.rows if r.name == view.name)
        assert shown.value != 15.3333
        await pilot.press("p")
        shown = next(r for r in app.table.rows if r.name == view.name)
        assert shown.value == 15.3333 and not app.header.paused


async def test_filter_narrows_the_rows_and_escape_clears_it() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"turb")
        assert [r.name for r in app.table.rows] == ["turbine_pressure_out", "turbine_temp_out"]
        await pilot.press("enter")
        assert app.table.has_focus and len(app.table.rows) == 2
        await pilot.press("slash", "escape")
        assert len(app.table.rows) == 7 and app.query_one("#filter", Input).value == ""


async def test_help_opens_and_main_keys_sleep_under_it() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes help, does not quit
        assert not isinstance(app.screen, HelpScreen) and app.is_running


async def test_double_click_opens_the_detail_screen() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.double_click(app.table, offset=(3, 3))
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.sensor == app.table.rows[2].name


async def test_actions_without_a_broker_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    app = demo_app()
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("down", "a")  # boiler_temp_out has an unacknowledged alarm
        # The acknowledgement runs in a worker of the app: wait for what it says.
        await until(
            lambda: any("cannot acknowledge: not connected to the broker" in n for n in notes),
            "the note that the broker is not connected",
        )


async def test_the_spawn_form_refuses_bad_fields_and_builds_the_command() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, SpawnForm)
        await pilot.press(*"boiler_temp_out")  # taken
        await pilot.press("ctrl+s")
        assert "Name: a sensor of that name is running" in str(form.query_one("#problem").render())
        values = {"name": "new_one", "min": "5", "max": "1", "step": "0.5", "freq": "2"}
        for field, value in values.items():
            form.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        assert "Min (5) must be below Max (1)" in str(form.query_one("#problem").render())
        # The sensor refuses more than 1000 Hz, so the form does too (it used to start a
        # child that exited with status 2).
        form.query_one("#freq", Input).value = "2000"
        await pilot.pause()  # the field's own check runs first
        await pilot.press("ctrl+s")
        assert "Freq Hz: must be above 0 and at most 1000 Hz" in str(
            form.query_one("#problem").render()
        )
        form.query_one("#freq", Input).value = "2"
        form.query_one("#max", Input).value = "9"
        form.query_one("#safe_max", Input).value = "8"
        chosen, problem = form.read()
        assert problem == "" and chosen is not None
        assert chosen.argv() == [
            "sensor", "--name", "new_one", "--min", "5.0", "--max", "9.0", "--step", "0.5",
            "--freq", "2.0", "--safe-max", "8.0",
        ]  # fmt: skip
        await pilot.press("escape")
        assert not isinstance(app.screen, SpawnForm)


async def test_the_command_palette_offers_the_actions() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Sensor detail", "Start a sensor", "Acknowledge alarm"} <= set(titles)
        await pilot.press("ctrl+p", *"sensor detail")
        commands = app.screen.query_one(CommandList)

        async def listed() -> bool:  # the palette searches in a worker of its own
            return commands.option_count > 0

        await wait_for(listed, what="the command in the palette")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DetailScreen), "the detail screen")


async def test_the_spawn_form_plays_a_scenario_and_refuses_one_whose_sensors_run(
    tmp_path: Path,
) -> None:
    app = demo_app()  # the reference plant's sensors are live in it
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, SpawnForm)
        assert not form.query_one("#scenario-fields").display
        form.query_one("#scenario", Select).value = "boiler-overpressure"
        await pilot.pause()
        assert form.query_one("#scenario-fields").display
        assert not form.query_one("#sensor-fields").display
        assert "boiler overpressure" in str(form.query_one("#scenario-about").render())
        await pilot.press("ctrl+s")
        problem = str(form.query_one("#problem").render())
        assert "boiler_pressure_out, boiler_temp_out, turbine_pressure_out running already" in (
            problem
        )
        assert isinstance(app.screen, SpawnForm), "nothing started"

        bad = tmp_path / "bad.toml"
        bad.write_text('duration = "1m"\n')
        form.query_one("#scenario", Select).value = "file"
        await pilot.pause()
        form.query_one("#scenario-file", Input).value = str(bad)
        await pilot.press("ctrl+s")
        assert f"{bad}: sensor: no [[sensor]] tables" in str(form.query_one("#problem").render())

        good = tmp_path / "valve.toml"
        good.write_text(
            'duration = "1m"\n[[sensor]]\nname = "valve"\nmin = 0\nmax = 1\nstep = 0.1\n'
            'freq = 1\nfaults = ["spike@10s:+5"]\n'
        )
        form.query_one("#scenario-file", Input).value = str(good)
        form.query_one("#speed", Input).value = "fast"
        await pilot.press("ctrl+s")
        assert "Speed: 'fast' is not a number" in str(form.query_one("#problem").render())
        form.query_one("#speed", Input).value = "4"
        chosen, problem = form.read_scenario()
        assert problem == "" and chosen is not None
        assert chosen.scenario.run_argv(chosen.speed, tmp_path) == [
            "scenario", "run", str(good), "--speed", "4.0", "--log-dir", str(tmp_path),
        ]  # fmt: skip
        form.query_one("#scenario", Select).value = "sensor"
        await pilot.pause()
        assert form.query_one("#sensor-fields").display
        await pilot.press("escape")


async def test_the_detail_screen_lays_up_to_four_sensors_over_each_other() -> None:
    app = demo_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await pilot.press("down", "enter")  # boiler_temp_out
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.sensor == "boiler_temp_out"
        for typed in ("boiler_pres", "turbine_temp", "condensor_temp"):
            await pilot.press("plus")
            picker = app.screen
            assert isinstance(picker, OverlayPicker)
            await pilot.press(*typed, "enter")
            await until(lambda: not isinstance(app.screen, OverlayPicker), "the picker closed")
        assert screen.overlaid == ["boiler_pressure_out", "turbine_temp_out", "condensor_temp_out"]
        data = screen.chart_data()
        assert [series.name for series in data.overlays] == screen.overlaid
        assert all(len(series.times) >= 50 for series in data.overlays), "the same time axis"
        assert data.scale is Scale.OWN
        about = str(screen.query_one("#about").render())
        assert "+3 laid over · own scale" in about

        await pilot.press("plus")  # a fifth is refused: the picker does not open
        assert not isinstance(app.screen, OverlayPicker)
        await pilot.press("m")
        assert screen.chart_data().scale is Scale.NORMALISED
        assert "normalised to safe ranges" in str(screen.query_one("#about").render())
        await pilot.press("minus", "minus")
        assert screen.overlaid == ["boiler_pressure_out"]
        await pilot.press("plus", "escape")  # cancelled: nothing added
        assert screen.overlaid == ["boiler_pressure_out"]
        await pilot.press("minus", "minus")
        assert screen.overlaid == [] and not screen.chart_data().overlays
