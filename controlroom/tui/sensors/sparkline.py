"""Sparklines as text: values to block characters, scaled to the values shown."""

from __future__ import annotations

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    """The last `width` values as blocks, right-aligned so the newest is always at the edge."""
    if width <= 0:
        return ""
    shown = values[-width:]
    if not shown:
        return " " * width
    low, high = min(shown), max(shown)
    span = high - low
    top = len(BLOCKS) - 1
    if span <= 0:
        line = BLOCKS[top // 2] * len(shown)
    else:
        scale = top / span
        line = "".join(BLOCKS[int((v - low) * scale + 0.5)] for v in shown)
    return " " * (width - len(shown)) + line
