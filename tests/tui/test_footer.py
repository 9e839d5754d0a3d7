"""The footer names the browser view's URL when there is room for it beside the keys."""

from __future__ import annotations

from textual.widgets import Label

from controlroom.config import Settings
from controlroom.tui import ControlRoom

URL = "http://127.0.0.1:3000/"


def app_with_bridge() -> ControlRoom:
    return ControlRoom(Settings(plant="demo"), operator="ops", live=False, browser_url=URL)


async def test_wide_screen_shows_the_browser_url() -> None:
    app = app_with_bridge()
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        label = app.query_one(".browser-url", Label)
        assert label.display
        assert URL in str(label.render())


async def test_narrow_screen_leaves_the_line_to_the_keys() -> None:
    app = app_with_bridge()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.query_one(".browser-url", Label).display


async def test_no_bridge_no_url() -> None:
    app = ControlRoom(Settings(plant="demo"), operator="ops", live=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert not app.query(".browser-url")
