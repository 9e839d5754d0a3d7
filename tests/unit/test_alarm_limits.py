"""What a limit is and which sets of a sensor's limits make sense."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.errors import ConfigError
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority, check_limits


def limit(level: Level, value: float, **options: float) -> AlarmLimit:
    return AlarmLimit("boiler", level, value, Priority.HIGH, **options)


def test_a_sensible_set_of_four_passes() -> None:
    check_limits([limit(Level.HH, 9), limit(Level.L, 2), limit(Level.H, 8), limit(Level.LL, 1)])


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        ([limit(Level.H, 8), limit(Level.HH, 8)], r"H \(8\) must be below HH \(8\)"),
        ([limit(Level.L, 5), limit(Level.H, 4)], r"L \(5\) must be below H \(4\)"),
        ([limit(Level.H, 8), limit(Level.H, 9)], "at most once"),
    ],
)
def test_a_set_out_of_order_is_one_clear_error(limits: list[AlarmLimit], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        check_limits(limits)


@pytest.mark.parametrize(
    "options",
    [{"deadband": -1.0}, {"on_delay_s": -0.1}, {"off_delay_s": 4000.0}, {"deadband": math.nan}],
)
def test_a_bad_field_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        limit(Level.H, 8, **options)
    with pytest.raises(ConfigError, match="finite"):
        limit(Level.H, math.inf)


@given(
    value=st.floats(-1e6, 1e6),
    band=st.floats(0, 100),
    reading=st.floats(-2e6, 2e6),
    high=st.booleans(),
)
def test_beyond_and_back_inside_never_both_hold(
    value: float, band: float, reading: float, high: bool
) -> None:
    """The deadband makes a gap: no reading is both beyond the limit and back inside it."""
    level = Level.H if high else Level.L
    rule = limit(level, value, deadband=band)
    assert not (rule.beyond(reading) and rule.back_inside(reading))
    assert rule.beyond(value + 1) is high and rule.beyond(value - 1) is not high


def test_priorities_rank_most_urgent_first() -> None:
    ranked = sorted(Priority, key=lambda p: p.rank)
    assert ranked == [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
