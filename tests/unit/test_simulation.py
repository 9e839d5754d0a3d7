"""The random walk never leaves its range and leans back towards normal."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.simulation import RandomWalk

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
    low=finite,
    width=st.floats(min_value=1e-6, max_value=1e6),
    step_fraction=st.floats(min_value=1e-6, max_value=3.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
@settings(max_examples=200)
def test_walk_stays_within_bounds(
    low: float, width: float, step_fraction: float, seed: int
) -> None:
    high = low + width
    walk = RandomWalk(low, high, width * step_fraction, rng=random.Random(seed))
    assert low <= walk.value <= high
    for _ in range(200):
        assert low <= walk.next() <= high


def test_walk_drifts_towards_normal() -> None:
    walk = RandomWalk(0.0, 100.0, 5.0, rng=random.Random(1))
    walk.value = 1.0
    values = [walk.next() for _ in range(2000)]
    late = values[1000:]
    assert abs(sum(late) / len(late) - walk.normal) < 15


def test_walk_rejects_an_empty_range() -> None:
    for low, high in ((5.0, 1.0), (2.0, 2.0)):
        try:
            RandomWalk(low, high, 0.1)
        except ValueError as error:
            assert "below" in str(error)
        else:
            raise AssertionError("an empty range was accepted")
