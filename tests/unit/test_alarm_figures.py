"""The ISA-18.2 alarm figures against brute force on random activations (hypothesis), and the
thresholds at their edges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.alarm_figures import (
    CHATTER_WINDOW_US,
    FLOOD_ABOVE,
    MINUTE_US,
    STALE_AFTER_US,
    Activation,
    alarm_figures,
    most_in_a_minute,
)

NOW = 10_000 * MINUTE_US
S = 1_000_000
POINTS = ["a H", "a L", "b HH", "c L"]


@st.composite
def activations(draw: st.DrawFn) -> list[Activation]:
    found = []
    for _ in range(draw(st.integers(0, 40))):
        raised = NOW - draw(st.integers(-60 * S, 26 * 3600 * S))
        cleared = draw(st.none() | st.integers(raised, raised + 30 * 3600 * S))
        found.append(Activation(draw(st.sampled_from(POINTS)), raised, cleared))
    return found


def brute_most_in_a_minute(times: list[int]) -> int:
    return max((sum(1 for u in times if t <= u < t + CHATTER_WINDOW_US) for t in times), default=0)


@given(activations(), st.integers(1, 3))
def test_every_figure_is_what_counting_by_hand_says(
    found: list[Activation], operators: int
) -> None:
    figures = alarm_figures(found, NOW, operators)
    past = [a for a in found if a.raised_at <= NOW]
    last_10 = [a for a in past if NOW - a.raised_at < 10 * MINUTE_US]
    assert figures.rate == len(last_10) / operators
    assert figures.flood == (len(last_10) / operators > FLOOD_ABOVE)
    day = [a for a in past if NOW - a.raised_at < 24 * 60 * MINUTE_US]
    for window, flagged in ((day, figures.chattering), (last_10, figures.chattering_now)):
        expected = {}
        for point in POINTS:
            most = brute_most_in_a_minute([a.raised_at for a in window if a.point == point])
            if most >= 3:
                expected[point] = most
        assert {c.point: c.most_in_a_minute for c in flagged} == expected
    stale = [
        a
        for a in past
        if (a.cleared_at is None or a.cleared_at > NOW) and NOW - a.raised_at > STALE_AFTER_US
    ]
    assert sorted(figures.stale, key=id) == sorted(stale, key=id)
    counts = {point: sum(1 for a in day if a.point == point) for point in POINTS}
    assert dict(figures.frequent) == {p: n for p, n in counts.items() if n}
    most_first = [n for _, n in figures.frequent]
    assert most_first == sorted(most_first, reverse=True)


@given(st.lists(st.integers(0, 5 * MINUTE_US), max_size=30))
def test_the_sliding_minute_finds_the_densest_minute(times: list[int]) -> None:
    times.sort()
    assert most_in_a_minute(times)[0] == brute_most_in_a_minute(times)


def test_eleven_alarms_in_ten_minutes_is_a_flood_and_ten_is_not() -> None:
    ten = [Activation(f"s{i} H", NOW - i * 50 * S) for i in range(10)]
    assert not alarm_figures(ten, NOW).flood
    assert alarm_figures([*ten, Activation("s10 H", NOW - 1)], NOW).flood
    assert not alarm_figures([*ten, Activation("s10 H", NOW - 1)], NOW, operators=2).flood


def test_three_activations_within_a_minute_chatter_and_a_minute_apart_do_not() -> None:
    three = [Activation("a H", NOW - t * S) for t in (0, 30, 59)]
    assert [c.point for c in alarm_figures(three, NOW).chattering_now] == ["a H"]
    spread = [Activation("a H", NOW - t * S) for t in (0, 30, 60)]
    assert alarm_figures(spread, NOW).chattering_now == []


def test_an_alarm_active_for_more_than_a_day_is_stale_and_a_cleared_one_is_not() -> None:
    old = Activation("a H", NOW - STALE_AFTER_US - 1)
    cleared = Activation("b H", NOW - STALE_AFTER_US - 1, NOW - S)
    young = Activation("c H", NOW - STALE_AFTER_US)
    assert alarm_figures([old, cleared, young], NOW).stale == [old]
