"""The alarm performance figures of ISA-18.2, from a plant's alarm activations.

- the alarm rate: activations per operator in the last 10 minutes; above 10 is a *flood*
  (an operator cannot weigh more than about one alarm a minute);
- *chattering* alarm points: 3 or more activations within one minute;
- *stale* alarms: active for more than 24 hours;
- the most frequent alarm points of the last 24 hours.

The rule alone, on plain values: the database reads the activations
(`controlroom.db.alarm_figures`), the control room's header and KPI screen show the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MINUTE_US = 60 * 1_000_000
RATE_WINDOW_US = 10 * MINUTE_US
FLOOD_ABOVE = 10  # alarms per operator per 10 minutes
CHATTER_COUNT = 3  # activations of one point ...
CHATTER_WINDOW_US = MINUTE_US  # ... within this span
STALE_AFTER_US = 24 * 60 * MINUTE_US
FREQUENT_WINDOW_US = 24 * 60 * MINUTE_US
FREQUENT_KEPT = 10


@dataclass(frozen=True, slots=True)
class Activation:
    """One alarm: its point (a sensor's limit, e.g. "boiler_temp_out H"), raised, cleared."""

    point: str
    raised_at: int
    cleared_at: int | None = None


@dataclass(frozen=True, slots=True)
class Chatter:
    """A point that chattered: the most activations it had within one minute, and when."""

    point: str
    most_in_a_minute: int
    at: int  # the last activation of that minute


@dataclass(frozen=True, slots=True)
class AlarmFigures:
    now_us: int
    operators: int
    rate: float  # activations per operator in the last 10 minutes
    chattering: list[Chatter] = field(default_factory=list)  # in the last 24 hours
    chattering_now: list[Chatter] = field(default_factory=list)  # in the last 10 minutes
    stale: list[Activation] = field(default_factory=list)  # active for more than 24 hours
    frequent: list[tuple[str, int]] = field(default_factory=list)  # last 24 h, most first

    @property
    def flood(self) -> bool:
        return self.rate > FLOOD_ABOVE


def most_in_a_minute(times: Sequence[int]) -> tuple[int, int]:
    """(the most of `times` within any span shorter than a minute, the last time of it);
    `times` in order."""
    best, at, start = 0, 0, 0
    for end, time in enumerate(times):
        while time - times[start] >= CHATTER_WINDOW_US:
            start += 1
        if end - start + 1 > best:
            best, at = end - start + 1, time
    return best, at


def chattering(activations: Iterable[Activation], since_us: int) -> list[Chatter]:
    """Points with CHATTER_COUNT or more activations within one minute, raised since
    `since_us`; the worst first, then by name."""
    times: dict[str, list[int]] = {}
    for activation in activations:
        if activation.raised_at >= since_us:
            times.setdefault(activation.point, []).append(activation.raised_at)
    found = []
    for point, raised in times.items():
        raised.sort()
        count, at = most_in_a_minute(raised)
        if count >= CHATTER_COUNT:
            found.append(Chatter(point, count, at))
    return sorted(found, key=lambda chatter: (-chatter.most_in_a_minute, chatter.point))


def alarm_figures(
    activations: Sequence[Activation], now_us: int, operators: int = 1
) -> AlarmFigures:
    """Every figure at `now_us` (activations raised later are not counted)."""
    if operators < 1:
        raise ValueError("at least one operator")
    past = [a for a in activations if a.raised_at <= now_us]
    recent = sum(1 for a in past if a.raised_at > now_us - RATE_WINDOW_US)
    day = [a for a in past if a.raised_at > now_us - FREQUENT_WINDOW_US]
    counts = Counter(a.point for a in day)
    frequent = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FREQUENT_KEPT]
    stale = [
        a
        for a in past
        if (a.cleared_at is None or a.cleared_at > now_us) and now_us - a.raised_at > STALE_AFTER_US
    ]
    return AlarmFigures(
        now_us=now_us,
        operators=operators,
        rate=recent / operators,
        chattering=chattering(day, now_us - FREQUENT_WINDOW_US + 1),
        chattering_now=chattering(past, now_us - RATE_WINDOW_US + 1),
        stale=sorted(stale, key=lambda a: (a.raised_at, a.point)),
        frequent=frequent,
    )
