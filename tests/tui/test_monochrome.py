"""Colour is never the only sign (ISA-101): with NO_COLOR every screen still draws, and the
words carry every state and priority."""

from __future__ import annotations

import pytest
from rich.style import Style

from controlroom.plant.alarm_limits import Priority
from controlroom.tui.alarms.alarm_panel import alarm_status, priority_look
from controlroom.tui.states import PRIORITY_LABELS, PRIORITY_LOUD, STATE_LABELS, state_style
from tests.tui.demo import demo_app


async def test_the_main_screen_draws_in_monochrome(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual's monochrome filter failed on a segment without a style: the app died at once."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app()
    async with app.run_test(size=(100, 24)) as pilot:
        assert app.no_color
        await pilot.press("tab", "down")
        await pilot.pause()
        lines = [app.alarm_panel.render_line(y).text for y in range(1, 4)]
        assert "2 HIGH" in lines[0] and "! ACTIVE, NOT ACKED" in lines[0]
        assert "! CLEARED, NOT ACKED" in lines[1]
        assert "cleared, acked by ann" in lines[2]
        table = [app.table.render_line(y).text for y in range(1, 9)]
        assert any("▲ HIGH" in line for line in table)
        assert any("◌ STALE" in line for line in table)


def test_normal_is_muted_and_every_colour_has_words() -> None:
    normal = state_style("NORMAL")
    assert normal.color is None and normal.bgcolor is None  # no green for a healthy row
    for state, label in STATE_LABELS.items():
        assert state in label  # the word, beside its symbol
    words = {PRIORITY_LABELS[p] for p in Priority}
    assert len(words) == len(Priority)  # each priority its own words
    colours = {PRIORITY_LOUD[p].bgcolor for p in Priority}
    assert len(colours) == len(Priority)  # and its own colour


def test_an_unacknowledged_alarm_is_loud_and_an_acknowledged_one_quiet() -> None:
    app = demo_app()
    unacked, returned, finished = sorted(app.model.alarms.values(), key=lambda a: a.id)
    assert alarm_status(unacked)[1] == PRIORITY_LOUD[Priority.HIGH]
    assert priority_look(returned)[1] == PRIORITY_LOUD[Priority.HIGH]  # still waits for an ack
    assert alarm_status(finished)[1] == Style(dim=True)
