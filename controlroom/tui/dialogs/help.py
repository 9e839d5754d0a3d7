"""What every key does, in one place (the footer only has room for the main ones)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Main screen[/b]
  ↑ ↓ PgUp PgDn Home End   move in the sensor table (or the alarm panel)
  tab                      switch between the sensor table and the alarm panel
  enter                    detail screen: the selected sensor's history and live chart
  n                        start a sensor (reference preset or custom)
  x                        stop the selected sensor (asks first; works wherever it runs)
  a                        acknowledge the selected alarm (or the selected sensor's alarm)
  p                        pause / resume the live view (data keeps arriving)
  /                        filter sensors by name (escape clears)
  ctrl+p                   command palette
  ?                        this help
  q                        quit (asks whether to stop the sensors this session started)

[b]Detail screen[/b]
  1 2 3 4                  window: 1 minute, 15 minutes, 1 hour, 24 hours
  escape                   back

[b]States[/b]  ● NORMAL   ▲ HIGH   ▼ LOW   ◌ STALE (silent for 3 periods)   ✕ OFFLINE
[b]Alarms[/b]  "! ... NOT ACKED" stands out until someone acknowledges it.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
