"""Safe-range evaluation with hysteresis."""

from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.alarms import SafeRange
from controlroom.plant.sensors import Condition

RANGE = SafeRange(10.0, 20.0, deadband_fraction=0.1)  # deadband 1.0


def run(values: list[float], start: Condition = Condition.NORMAL) -> list[Condition]:
    conditions = []
    condition = start
    for value in values:
        condition = RANGE.evaluate(condition, value)
        conditions.append(condition)
    return conditions


def test_raises_above_and_below() -> None:
    assert run([15, 20.5]) == [Condition.NORMAL, Condition.HIGH]
    assert run([15, 9.9]) == [Condition.NORMAL, Condition.LOW]


def test_limit_itself_is_safe() -> None:
    assert run([20.0, 10.0]) == [Condition.NORMAL, Condition.NORMAL]


def test_high_clears_only_past_the_deadband() -> None:
    assert run([21, 19.5, 20.5, 18.9]) == [
        Condition.HIGH,
        Condition.HIGH,  # back inside, but within the deadband
        Condition.HIGH,
        Condition.NORMAL,
    ]


def test_low_clears_only_past_the_deadband() -> None:
    assert run([9, 10.5, 11.1]) == [Condition.LOW, Condition.LOW, Condition.NORMAL]


def test_swing_from_high_to_low_switches_directly() -> None:
    assert run([25, 5]) == [Condition.HIGH, Condition.LOW]


def test_one_sided_ranges() -> None:
    only_high = SafeRange(None, 5.0)
    assert only_high.evaluate(Condition.NORMAL, -1e9) is Condition.NORMAL
    assert only_high.evaluate(Condition.NORMAL, 6) is Condition.HIGH
    assert only_high.evaluate(Condition.HIGH, 4.99) is Condition.NORMAL  # no deadband


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=50))
def test_hovering_at_a_limit_never_flaps(noise: list[float]) -> None:
    """Values within the deadband below the limit never clear a raised alarm."""
    values = [21.0] + [20.0 - (n % 1.0) * 0.99 for n in noise]
    assert set(run(values)) == {Condition.HIGH}


@given(st.floats(min_value=-1e6, max_value=1e6), st.sampled_from(list(Condition)))
def test_outside_always_alarms_and_far_inside_always_clears(
    value: float, before: Condition
) -> None:
    after = RANGE.evaluate(before, value)
    if value > 20:
        assert after is Condition.HIGH
    elif value < 10:
        assert after is Condition.LOW
    elif 11 <= value <= 19:
        assert after is Condition.NORMAL
