"""Asks for the moment to replay from, checked as it is typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from controlroom.clock import parse_moment, us_to_datetime

HINT = "a moment: 2026-12-01T03:10Z, 2026-12-01 03:10 (local time), or -15m, 2h ago (before now)"


class ReplayPrompt(ModalScreen[int | None]):
    """Dismisses with the moment in microseconds, or None on escape."""

    DEFAULT_CSS = """
    ReplayPrompt { align: center middle; }
    ReplayPrompt > Vertical {
        width: 72; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ReplayPrompt #replay-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, now_us: Callable[[], int]) -> None:
        super().__init__()
        self._now_us = now_us

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Replay the plant from when?", markup=False)
            yield Input(placeholder="-15m", id="replay-at")
            yield Static(HINT, id="replay-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def check(self, text: str) -> tuple[int | None, str]:
        """The moment typed, or None and why not."""
        now = self._now_us()
        moment = parse_moment(text, now) if text.strip() else None
        if moment is None:
            return None, HINT if not text.strip() else f"not a moment: {HINT}"
        if moment >= now:
            return None, "that is not in the past"
        return moment, f"replay from {us_to_datetime(moment).astimezone():%Y-%m-%d %H:%M:%S %Z}"

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#replay-error", Static).update(self.check(event.value)[1])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        moment, why = self.check(event.value)
        if moment is None:
            self.query_one("#replay-error", Static).update(why)
            return
        self.dismiss(moment)

    def action_cancel(self) -> None:
        self.dismiss(None)
