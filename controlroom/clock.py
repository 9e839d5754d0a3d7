"""Time as every message carries it: integer microseconds since the Unix epoch, UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def datetime_to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str) -> timedelta | None:
    """`90s`, `15m`, `2h`, `30d`, `1w`, `10y` (a year is 365 days) as a timedelta; else None."""
    number, unit = text[:-1], text[-1:]
    if unit not in DURATION_UNITS or not number.isdigit():
        return None
    return timedelta(seconds=int(number) * DURATION_UNITS[unit])


def format_duration(span: timedelta) -> str:
    """The shortest exact form parse_duration reads back: 30d, 1h, 90s."""
    seconds = int(span.total_seconds())
    for unit in ("y", "w", "d", "h", "m"):
        if seconds and seconds % DURATION_UNITS[unit] == 0:
            return f"{seconds // DURATION_UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_moment(text: str, now: int) -> int | None:
    """A moment as an operator writes it, in microseconds: ISO 8601 (`2026-12-01T03:10Z`,
    `2026-12-01 03:10:00+01:00`; without a zone, the machine's local time) or a span before
    `now` (`-15m`, `15m ago`); None if it is neither."""
    text = text.strip()
    before = text[1:] if text.startswith("-") else text.removesuffix(" ago").strip()
    if before != text:
        span = parse_duration(before)
        return None if span is None else now - int(span.total_seconds() * 1_000_000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as the operator's clock shows it
    return datetime_to_us(moment)
