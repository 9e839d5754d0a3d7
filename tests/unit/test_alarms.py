"""The limit rule of one alarm point (`judge`): deadband, on-delay, off-delay, held to a plain
per-reading model on random readings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.alarm_limits import AlarmLimit, Level, PointState, Priority, judge
from tests.unit.alarm_model import ByTheRule

S = 1_000_000


def run(limit: AlarmLimit, readings: list[tuple[float, float]]) -> list[bool]:
    """Whether the point is active after each (value, seconds) reading."""
    point = PointState()
    states = []
    for value, at_s in readings:
        judge(limit, point, value, round(at_s * S))
        states.append(point.active)
    return states


HIGH = AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH, deadband=1.0)


def test_the_limit_itself_is_inside_and_a_high_clears_only_past_the_deadband() -> None:
    assert run(HIGH, [(20.0, 0), (21, 1), (19.5, 2), (20.5, 3), (18.9, 4)]) == [
        False, True, True, True, False,
    ]  # fmt: skip


def test_a_low_limit_is_crossed_downwards() -> None:
    low = AlarmLimit("boiler", Level.L, 10.0, Priority.LOW, deadband=1.0)
    assert run(low, [(10.0, 0), (9.9, 1), (10.5, 2), (11.0, 3)]) == [False, True, True, False]


def test_an_excursion_shorter_than_the_on_delay_raises_nothing() -> None:
    delayed = AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH, on_delay_s=2.0)
    assert run(delayed, [(25, 0), (25, 1.5), (15, 1.9), (25, 3), (25, 4.9)]) == [False] * 5
    assert run(delayed, [(25, 0), (25, 1), (25, 2)]) == [False, False, True]


def test_a_return_shorter_than_the_off_delay_clears_nothing() -> None:
    delayed = AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH, off_delay_s=2.0)
    assert run(delayed, [(25, 0), (15, 1), (15, 2.9), (25, 3), (15, 4), (15, 6)]) == [
        True, True, True, True, True, False,
    ]  # fmt: skip


def test_rate_of_change_either_way() -> None:
    rate = AlarmLimit("boiler", Level.ROC, 5.0, Priority.MEDIUM)
    point = PointState()
    assert judge(rate, point, -6.0, 0) and point.active
    assert judge(rate, point, 4.0, S) and not point.active


readings = st.lists(st.tuples(st.floats(0, 30), st.integers(0, 3 * S)), min_size=1, max_size=80)
limits = st.builds(
    AlarmLimit,
    st.just("boiler"),
    st.sampled_from([Level.LL, Level.L, Level.H, Level.HH]),
    st.floats(5, 25),
    st.sampled_from(list(Priority)),
    deadband=st.floats(0, 3),
    on_delay_s=st.sampled_from([0.0, 0.5, 1.0, 2.5]),
    off_delay_s=st.sampled_from([0.0, 0.5, 1.0, 2.5]),
)


@given(limit=limits, steps=readings)
def test_judge_decides_as_the_plain_model(
    limit: AlarmLimit, steps: list[tuple[float, int]]
) -> None:
    model = ByTheRule({"boiler": [limit]})
    point = PointState()
    at = 0
    for value, gap in steps:
        at += gap
        model.read("boiler", value, at)
        judge(limit, point, value, at)
        assert point.active is (("boiler", limit.level) in model.active)


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=50))
def test_hovering_at_a_limit_never_flaps(noise: list[float]) -> None:
    """Values within the deadband below the limit never clear a raised alarm."""
    values = [(21.0, 0.0)] + [(20.0 - (n % 1.0) * 0.99, i + 1.0) for i, n in enumerate(noise)]
    assert set(run(HIGH, values)) == {True}
