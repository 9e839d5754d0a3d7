"""Shelving an alarm (ISA-18.2): for a time up to the plant's maximum, or one-shot (until the
alarm clears), always with a reason. Every field is checked as it is typed, the reason beside
it; the shelving is sent only when all are right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from controlroom.clock import format_duration, parse_duration

TIMED = "timed"
ONE_SHOT = "one-shot"
DEFAULT_FOR = "1h"


@dataclass(frozen=True, slots=True)
class ShelveChoice:
    for_s: float | None  # None: one-shot, until the alarm clears
    reason: str


def check_duration(text: str, longest_s: float) -> str | None:
    """Why `text` is not a shelving time, or None."""
    span = parse_duration(text.strip())
    if span is None:
        return "a time like 15m, 2h or 8h"
    if span <= timedelta(0):
        return "more than nothing"
    if span.total_seconds() > longest_s:
        return f"at most {format_duration(timedelta(seconds=longest_s))} (the plant's maximum)"
    return None


def check_reason(text: str) -> str | None:
    return None if text.strip() else "a reason is required"


class ShelveDialog(ModalScreen[ShelveChoice | None]):
    """Dismisses with the shelving to ask for, or None when cancelled."""

    DEFAULT_CSS = """
    ShelveDialog { align: center middle; }
    ShelveDialog > Vertical {
        width: 76; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ShelveDialog Grid {
        grid-size: 3; grid-columns: 8 34 1fr; grid-rows: 1; height: auto; grid-gutter: 1 1;
        margin-top: 1;
    }
    ShelveDialog .error { color: $error; }
    ShelveDialog #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ShelveDialog Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Shelve"),
    ]

    def __init__(self, what: str, longest_s: float) -> None:
        super().__init__()
        self._what = what
        self.longest_s = longest_s

    def compose(self) -> ComposeResult:
        longest = format_duration(timedelta(seconds=self.longest_s))
        with Vertical():
            yield Static(
                f"Shelve {self._what}: it stays off the operator's list until the time is up "
                f"(at most {longest}) or, one-shot, until it clears.",
                markup=False,
            )
            with Grid():
                yield Label("for")
                yield Select(
                    [("a time", TIMED), ("until it clears (one-shot)", ONE_SHOT)],
                    value=TIMED,
                    allow_blank=False,
                    id="mode",
                    compact=True,
                )
                yield Static("")
                yield Label("time")
                yield Input(DEFAULT_FOR, placeholder="15m, 2h", id="for", compact=True)
                yield Static("", id="for-problem", classes="error")
                yield Label("reason")
                yield Input(placeholder="why (required)", id="reason", compact=True)
                yield Static(check_reason("") or "", id="reason-problem", classes="error")
            with Horizontal(id="buttons"):
                yield Button("Shelve (ctrl+s)", id="shelve", variant="warning")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        self._check()

    @property
    def one_shot(self) -> bool:
        return self.query_one("#mode", Select).value == ONE_SHOT

    def problems(self) -> dict[str, str]:
        """Each field's problem, by field id."""
        found = {}
        if not self.one_shot:
            problem = check_duration(self.query_one("#for", Input).value, self.longest_s)
            if problem:
                found["for"] = problem
        problem = check_reason(self.query_one("#reason", Input).value)
        if problem:
            found["reason"] = problem
        return found

    @on(Input.Changed)
    @on(Select.Changed)
    def _check(self) -> None:
        problems = self.problems()
        for field in ("for", "reason"):
            self.query_one(f"#{field}-problem", Static).update(problems.get(field, ""))
        self.query_one("#for", Input).disabled = self.one_shot
        self.query_one("#shelve", Button).disabled = bool(problems)

    @on(Input.Submitted)
    @on(Button.Pressed, "#shelve")
    def action_submit(self) -> None:
        if self.problems():
            return
        reason = self.query_one("#reason", Input).value.strip()
        if self.one_shot:
            self.dismiss(ShelveChoice(None, reason))
            return
        span = parse_duration(self.query_one("#for", Input).value.strip())
        assert span is not None
        self.dismiss(ShelveChoice(span.total_seconds(), reason))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
