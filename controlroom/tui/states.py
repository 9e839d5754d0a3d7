"""How each sensor state looks: a colour AND a symbol and a word, never colour alone."""

from __future__ import annotations

from rich.style import Style

from controlroom.plant.numbers import MISSING, format_number

RANGE_DASH = "\u2013"  # an en dash reads as "to", a hyphen as a minus sign

STATE_LABELS: dict[str, str] = {
    "NORMAL": "● NORMAL",
    "HIGH": "▲ HIGH",
    "LOW": "▼ LOW",
    "STALE": "◌ STALE",
    "OFFLINE": "✕ OFFLINE",
}

STATE_STYLES: dict[str, Style] = {
    "NORMAL": Style(color="green"),
    "HIGH": Style(color="bright_white", bgcolor="red", bold=True),
    "LOW": Style(color="bright_white", bgcolor="blue", bold=True),
    "STALE": Style(color="yellow", bold=True),
    "OFFLINE": Style(color="bright_black"),
}

STATE_WIDTH = max(len(label) for label in STATE_LABELS.values())


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def state_style(state: str) -> Style:
    return STATE_STYLES.get(state, Style())


def format_range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return MISSING
    left = "" if low is None else format_number(low)
    right = "" if high is None else format_number(high)
    return f"{left}{RANGE_DASH}{right}"
