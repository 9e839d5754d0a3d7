"""How states and priorities look, after the high-performance HMI practice of ISA-101.

Normal is muted: a healthy row has no colour at all, so the eye goes to what is abnormal.
Colour is kept for what is abnormal and for an alarm's priority, and never stands alone: every
colour has a symbol and a word beside it (colour-blind operators, monochrome terminals and
NO_COLOR read the words).
"""

from __future__ import annotations

from rich.style import Style

from controlroom.plant.alarm_limits import Priority
from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import MISSING, format_number

RANGE_DASH = "\u2013"  # an en dash reads as "to", a hyphen as a minus sign

MUTED = Style(dim=True)

STATE_LABELS: dict[str, str] = {
    "NORMAL": "● NORMAL",
    "HIGH": "▲ HIGH",
    "LOW": "▼ LOW",
    "STALE": "◌ STALE",
    "OFFLINE": "✕ OFFLINE",
}

# HIGH and LOW take their alarm's priority colour (`condition_style`); these are for the rest.
STATE_STYLES: dict[str, Style] = {
    "NORMAL": MUTED,
    "STALE": Style(bold=True, reverse=True),  # data that cannot be trusted: loud, not a priority
    "OFFLINE": MUTED,
}

STATE_WIDTH = max(len(label) for label in STATE_LABELS.values())

# The priority an alarm has when nothing else says (the safe-range alarms of HIGH and LOW).
DEFAULT_PRIORITY = Priority.HIGH

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.CRITICAL: "1 CRIT",
    Priority.HIGH: "2 HIGH",
    Priority.MEDIUM: "3 MED",
    Priority.LOW: "4 LOW",
}
PRIORITY_WIDTH = max(len(label) for label in PRIORITY_LABELS.values())

# Loud: an alarm waiting for acknowledgement (the colour fills the cell).
PRIORITY_LOUD: dict[Priority, Style] = {
    Priority.CRITICAL: Style(color="bright_white", bgcolor="red", bold=True),
    Priority.HIGH: Style(color="black", bgcolor="dark_orange", bold=True),
    Priority.MEDIUM: Style(color="black", bgcolor="yellow", bold=True),
    Priority.LOW: Style(color="black", bgcolor="magenta", bold=True),
}
# Quiet: acknowledged but still active (the colour only in the letters).
PRIORITY_QUIET: dict[Priority, Style] = {
    Priority.CRITICAL: Style(color="red", bold=True),
    Priority.HIGH: Style(color="dark_orange", bold=True),
    Priority.MEDIUM: Style(color="yellow"),
    Priority.LOW: Style(color="magenta"),
}


# The same colours on a chart (plotext's names): an alarm's start marked in its priority's.
PRIORITY_CHART: dict[Priority, str] = {
    Priority.CRITICAL: "red",
    Priority.HIGH: "orange",
    Priority.MEDIUM: "yellow",
    Priority.LOW: "magenta",
}
LIMIT_CHART = "gray+"  # safe limits and an alarm's end: lines to read by, not to alarm


def priority_of(alarm: Alarm | None) -> Priority:
    """An alarm's priority as the picture has it; a safe-range alarm's is high."""
    found = getattr(alarm, "priority", None)
    if isinstance(found, Priority):
        return found
    if isinstance(found, str) and found in Priority.__members__.values():
        return Priority(found)
    return DEFAULT_PRIORITY


def priority_label(priority: Priority) -> str:
    return PRIORITY_LABELS[priority]


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def state_style(state: str, alarm: Alarm | None = None) -> Style:
    """A sensor state's look: HIGH and LOW in the priority colour of the alarm behind them."""
    if state in ("HIGH", "LOW"):
        priority = priority_of(alarm)
        unacked = alarm is None or alarm.acked_at is None
        return (PRIORITY_LOUD if unacked else PRIORITY_QUIET)[priority]
    return STATE_STYLES.get(state, Style())


def format_range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return MISSING
    left = "" if low is None else format_number(low)
    right = "" if high is None else format_number(high)
    return f"{left}{RANGE_DASH}{right}"
