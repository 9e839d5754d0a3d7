"""Replay's pure rules: an alarm as it was at a moment, liveness from the last reading, the
clock (and moments as an operator writes them)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.clock import parse_moment
from controlroom.plant.alarms import Alarm
from controlroom.plant.replay import (
    OFFLINE_AFTER_S,
    SPEEDS,
    ReplayClock,
    alarm_as_of,
    changed_between,
    liveness_as_of,
    open_as_of,
)
from controlroom.plant.sensors import Condition, Liveness

S = 1_000_000


def alarm(raised: int, cleared: int | None, acked: int | None) -> Alarm:
    return Alarm(
        "a1",
        "boiler",
        Condition.HIGH,
        raised_at=raised,
        value=9.0,
        limit=5.0,
        peak=9.5,
        cleared_at=cleared,
        acked_at=acked,
        acked_by="ann" if acked is not None else None,
    )


times = st.integers(0, 10**6)


@given(raised=times, cleared=st.none() | times, acked=st.none() | times, at=times)
def test_an_alarm_as_of_a_moment_knows_only_what_had_happened(
    raised: int, cleared: int | None, acked: int | None, at: int
) -> None:
    then = alarm_as_of(alarm(raised, cleared, acked), at)
    if raised > at:
        assert then is None
        return
    assert then is not None
    assert then.cleared_at == (cleared if cleared is not None and cleared <= at else None)
    assert then.acked_at == (acked if acked is not None and acked <= at else None)
    assert (then.acked_by is None) == (then.acked_at is None)
    # Played forward, the one merge rule takes in each later copy: it ends as stored now.
    final = alarm(raised, cleared, acked)
    then.absorb(final)
    assert then == final


def test_open_as_of_keeps_what_was_active_or_not_yet_acknowledged() -> None:
    cleared_and_acked = alarm(10 * S, 20 * S, 30 * S)
    assert open_as_of([cleared_and_acked], 5 * S) == []  # not yet raised
    assert [a.cleared_at for a in open_as_of([cleared_and_acked], 15 * S)] == [None]
    assert [a.acked_at for a in open_as_of([cleared_and_acked], 25 * S)] == [None]
    assert open_as_of([cleared_and_acked], 30 * S) == []  # done by then


def test_changed_between_is_half_open() -> None:
    one = alarm(10, 20, None)
    assert changed_between(one, 9, 10)
    assert not changed_between(one, 10, 19)
    assert changed_between(one, 19, 20)
    assert not changed_between(one, 20, 10**9)


def test_liveness_from_the_last_reading() -> None:
    assert liveness_as_of(None, 1.0, 10 * S) is Liveness.OFFLINE
    assert liveness_as_of(10 * S, 1.0, 13 * S) is Liveness.LIVE  # three periods: still live
    assert liveness_as_of(10 * S, 1.0, 14 * S) is Liveness.STALE
    offline_at = 10 * S + int(OFFLINE_AFTER_S * S) + 1
    assert liveness_as_of(10 * S, 1.0, offline_at) is Liveness.OFFLINE


def test_the_clock_plays_at_its_speed_pauses_steps_and_stops_at_the_end() -> None:
    clock = ReplayClock(0, 100 * S, speed=10)
    assert clock.advance(0.5) == (0, 5 * S)
    clock.toggle()
    assert clock.advance(1.0) == (5 * S, 5 * S)  # paused
    assert clock.step(10) == (5 * S, 15 * S)  # steps while paused
    assert clock.faster() == 30 and clock.faster() == 60 and clock.faster() == 60
    assert clock.slower() == 30
    clock.toggle()
    assert clock.advance(10.0) == (15 * S, 100 * S)  # not beyond the end
    assert clock.at_end and not clock.playing
    assert not clock.toggle()  # nothing left to play


def test_a_speed_the_clock_does_not_have_is_refused() -> None:
    assert 60 in SPEEDS
    with pytest.raises(ValueError, match="speed 7"):
        ReplayClock(0, 1, speed=7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T03:10Z", 1_796_094_600 * S),
        ("2026-12-01T03:10:00+01:00", 1_796_091_000 * S),
        ("-15m", 2_000_000_000 * S - 900 * S),
        ("-2h", 2_000_000_000 * S - 7200 * S),
        ("2h ago", 2_000_000_000 * S - 7200 * S),
        ("ago", None),
        ("yesterday", None),
        ("-15", None),
        ("2026-13-01", None),
        ("", None),
    ],
)
def test_moments_as_an_operator_writes_them(text: str, expected: int | None) -> None:
    assert parse_moment(text, 2_000_000_000 * S) == expected
