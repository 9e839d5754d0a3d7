"""The operator's alarm dialogs on their own: every field checked as typed, nothing sent until
all are right (the shelve dialog, the limits form, the comment dialog)."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority
from controlroom.tui.dialogs.shelve import ONE_SHOT, ShelveChoice, ShelveDialog
from controlroom.tui.dialogs.text_dialog import TextDialog
from controlroom.tui.limits.limits_form import LimitsEdit, LimitsForm

EIGHT_HOURS = 8 * 3600.0
NOT_YET = object()


class Host(App[None]):
    """Shows one dialog and keeps what it dismissed with."""

    def __init__(self, dialog: ModalScreen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.result: object = NOT_YET

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, result: object) -> None:
        self.result = result


async def type_into(pilot: Pilot[None], dialog: ModalScreen[Any], field: str, text: str) -> None:
    dialog.query_one(f"#{field}", Input).value = text
    await pilot.pause()


def problem(dialog: ModalScreen[Any], field: str) -> str:
    return str(dialog.query_one(f"#{field}-problem", Static).render())


async def test_shelving_needs_a_time_within_the_maximum_and_a_reason() -> None:
    dialog = ShelveDialog("the H alarm of boiler_temp_out", EIGHT_HOURS)
    app = Host(dialog)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        save = dialog.query_one("#shelve", Button)
        assert save.disabled and problem(dialog, "reason") == "a reason is required"
        await type_into(pilot, dialog, "for", "9h")
        assert "at most 8h" in problem(dialog, "for")
        await type_into(pilot, dialog, "for", "soon")
        assert problem(dialog, "for") == "a time like 15m, 2h or 8h"
        await type_into(pilot, dialog, "for", "30m")
        await type_into(pilot, dialog, "reason", "sensor being recalibrated")
        assert problem(dialog, "for") == "" and not save.disabled
        await pilot.press("ctrl+s")
        assert app.result == ShelveChoice(1800.0, "sensor being recalibrated")


async def test_one_shot_shelving_needs_no_time() -> None:
    dialog = ShelveDialog("the H alarm of boiler_temp_out", EIGHT_HOURS)
    app = Host(dialog)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await type_into(pilot, dialog, "for", "forever")
        dialog.query_one("#mode", Select).value = ONE_SHOT
        await type_into(pilot, dialog, "reason", "known, fixed tomorrow")
        assert dialog.query_one("#for", Input).disabled
        await pilot.press("ctrl+s")
        assert app.result == ShelveChoice(None, "known, fixed tomorrow")


LIMITS = [
    AlarmLimit("boiler_temp_out", Level.L, 580.0, Priority.HIGH, 0.9),
    AlarmLimit("boiler_temp_out", Level.H, 625.0, Priority.HIGH, 0.9),
]


async def test_the_limits_form_checks_each_field_and_the_set_as_typed() -> None:
    dialog = LimitsForm("boiler_temp_out", "C", LIMITS)
    app = Host(dialog)
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        save = dialog.query_one("#save", Button)
        assert dialog.query_one("#h-value", Input).value == "625"
        assert save.disabled and problem(dialog, "reason") == "a reason is required"
        await type_into(pilot, dialog, "reason", "new burner")
        assert not save.disabled
        await type_into(pilot, dialog, "hh-value", "hot")
        assert problem(dialog, "hh") == "value: a number" and save.disabled
        await type_into(pilot, dialog, "hh-value", "620")  # below H: the set is refused
        assert "H (625) must be below HH (620)" in problem(dialog, "set") and save.disabled
        await type_into(pilot, dialog, "hh-value", "640")
        await type_into(pilot, dialog, "hh-on", "7200")
        assert problem(dialog, "hh") == "the on-delay must be 0 to 3600 s"
        await type_into(pilot, dialog, "hh-on", "5")
        await type_into(pilot, dialog, "l-deadband", "-1")
        assert problem(dialog, "l") == "the deadband must be zero or more"
        await type_into(pilot, dialog, "l-value", "")  # an empty value removes the limit
        assert problem(dialog, "l") == "" and not save.disabled
        await pilot.press("ctrl+s")
        assert isinstance(app.result, LimitsEdit) and app.result.reason == "new burner"
        assert app.result.limits == [
            AlarmLimit("boiler_temp_out", Level.H, 625.0, Priority.HIGH, 0.9),
            AlarmLimit("boiler_temp_out", Level.HH, 640.0, Priority.CRITICAL, 0.0, 5.0),
        ]


async def test_a_required_comment_is_not_sent_empty_and_escape_cancels() -> None:
    dialog = TextDialog("Comment on it", "Comment", required=True, placeholder="what")
    app = Host(dialog)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert app.result is NOT_YET and "type something first" in problem(dialog, "text")
        await pilot.press(*"valve stuck", "enter")
        assert app.result == "valve stuck"
    dialog = TextDialog("Acknowledge", "Acknowledge", required=False, placeholder="why")
    app = Host(dialog)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        assert app.result is None
