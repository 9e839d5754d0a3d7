"""Screens as pictures (pytest-textual-snapshot), on deterministic data.

Update after a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from controlroom.tui import ControlRoom
from controlroom.tui.detail.detail_screen import DetailScreen
from tests.tui.demo import demo_app

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Alarm times are shown in local time; pin it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _connected(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, ControlRoom)
    app.header.broker = True
    app.header.database = True
    await pilot.pause()


def test_main_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(demo_app(), terminal_size=(100, 24), run_before=_connected)


def test_main_screen_at_80x24_with_the_cursor_on_an_alarm(snap_compare: SnapCompare) -> None:
    assert snap_compare(demo_app(), press=["down"], terminal_size=(80, 24), run_before=_connected)


def test_detail_screen(snap_compare: SnapCompare) -> None:
    async def open_detail(pilot: Pilot[None]) -> None:
        await _connected(pilot)
        await pilot.press("down", "enter")
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        while not screen.history_loaded:
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(100, 30), run_before=open_detail)


def test_spawn_form_with_a_field_error(snap_compare: SnapCompare) -> None:
    async def fill(pilot: Pilot[None]) -> None:
        await _connected(pilot)
        await pilot.press("n")
        form = pilot.app.screen
        form.query_one("#preset", Select).value = "boiler_temp_out"
        await pilot.pause()
        step = form.query_one("#step", Input)
        step.cursor_blink = False  # the picture must not depend on when the cursor blinked
        step.focus()
        step.value = "-1"
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(100, 30), run_before=fill)
