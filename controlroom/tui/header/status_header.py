"""The top line: plant, broker and database state, live message rate, twin sensors, a
scenario playing, pause, the clock."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from controlroom.plant.alarm_figures import AlarmFigures

# Normal is muted; colour (and a word) is for what is wrong (ISA-101).
UP = "dim"
DOWN = "bold white on red"
WAITING = "bold"
RINGING = ALERT = "bold white on red"
MARK = "bold reverse"  # a state worth a look that is not an alarm: twins, paused


class StatusHeader(Widget):
    """One line; reactive fields, so many changes in one frame cost one redraw."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    plant: reactive[str] = reactive("")
    broker: reactive[bool | None] = reactive(None)
    database: reactive[bool | None] = reactive(None)
    rate: reactive[float] = reactive(0.0)
    paused: reactive[bool] = reactive(False)
    twins: reactive[int] = reactive(0)  # sensors that two processes read at once
    figures: reactive[AlarmFigures | None] = reactive(None)  # flood, chattering
    bell: reactive[str] = reactive("on")  # on, ringing (an alarm calls), off (--no-bell)
    scenario: reactive[str] = reactive("")  # the scenarios this session plays
    now: reactive[datetime | None] = reactive(None)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" controlroom ", style="bold reverse")
        text.append(f" {self.plant} ", style="bold")
        text.append(" broker ")
        text.append(*_state(self.broker, "up", "DOWN, reconnecting"))
        text.append("  database ")
        text.append(*_state(self.database, "up", "DOWN"))
        text.append(f"  {self.rate:,.0f} readings/s")
        if self.twins:
            text.append("  ")
            text.append(f" ⚠ {self.twins} TWIN SENSOR{'S' if self.twins > 1 else ''} ", style=MARK)
        for words, style in figures_header(self.figures):
            text.append("  ")
            text.append(words, style=style)
        if self.bell == "ringing":
            text.append("  ")
            text.append(" ♪ BELL ", style=RINGING)
        elif self.bell == "off":
            text.append("  bell off", style=UP)
        if self.scenario:
            text.append("  ")
            text.append(f" ▶ SCENARIO {self.scenario} ", style=MARK)
        if self.paused:
            text.append("  ")
            text.append(" ‖ PAUSED ", style=MARK)
        if self.now is not None:
            clock = self.now.strftime("%H:%M:%S %Z")
            width = self.size.width
            gap = max(width - text.cell_len - len(clock) - 1, 2)
            text.append(" " * gap + clock)
        return text


def _state(up: bool | None, yes: str, no: str) -> tuple[str, str]:
    if up is None:
        return "connecting…", WAITING
    return (f"● {yes}", UP) if up else (f"✕ {no}", DOWN)


def figures_header(shown: AlarmFigures | None) -> list[tuple[str, str]]:
    """The header's words for the alarm figures: FLOOD and CHATTER when they apply, else
    nothing (normal is muted)."""
    if shown is None:
        return []
    marks = []
    if shown.flood:
        marks.append((f" FLOOD {shown.rate:g}/10 min ", ALERT))
    if shown.chattering_now:
        marks.append((f" CHATTER {len(shown.chattering_now)} ", MARK))
    return marks
