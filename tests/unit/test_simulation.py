"""The random walks never leave their range and lean back towards normal."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.plant.sensors import SensorInfo
from controlroom.simulation.faults import parse_fault
from controlroom.simulation.sensor import SimulatedSensor
from controlroom.simulation.walks import RandomWalks
from workers.gateway import Cohort

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
walk_settings = st.tuples(
    finite,
    st.floats(min_value=1e-6, max_value=1e6),  # width of the range
    st.floats(min_value=1e-6, max_value=3.0),  # step, as a fraction of the width
)


@given(walks=st.lists(walk_settings, min_size=1, max_size=8), seed=st.integers(0, 2**32))
@settings(max_examples=200)
def test_walks_stay_within_bounds(walks: list[tuple[float, float, float]], seed: int) -> None:
    low = [w[0] for w in walks]
    high = [w[0] + w[1] for w in walks]
    step = [w[1] * w[2] for w in walks]
    walk = RandomWalks(low, high, step, rng=np.random.default_rng(seed))
    assert np.all((low <= walk.values) & (walk.values <= high))
    for _ in range(200):
        values = walk.next()
        assert all(lo <= v <= hi for lo, v, hi in zip(low, values, high, strict=True))


def test_walks_drift_towards_normal() -> None:
    walk = RandomWalks([0.0, 50.0], [100.0, 60.0], [5.0, 0.5], rng=np.random.default_rng(1))
    walk.values = np.array([1.0, 59.9])
    late = np.array([walk.next() for _ in range(2000)][1000:])
    assert np.all(np.abs(late.mean(axis=0) - walk.normal) < [15.0, 1.5])


def test_walks_reject_an_empty_range() -> None:
    for low, high in ((5.0, 1.0), (2.0, 2.0)):
        with pytest.raises(ValueError, match="below"):
            RandomWalks([low], [high], [0.1])


def test_a_removed_walk_leaves_the_others_in_order() -> None:
    walk = RandomWalks([0.0, 10.0, 20.0], [1.0, 11.0, 21.0], [0.1] * 3)
    walk.remove(1)
    assert len(walk) == 2
    first, third = walk.next()
    assert 0.0 <= first <= 1.0 and 20.0 <= third <= 21.0


def _sensor(name: str) -> SimulatedSensor:
    return SimulatedSensor(SensorInfo(name), minimum=0.0, maximum=1.0, step=0.1, freq_hz=10.0)


def test_a_cohort_ticks_its_sensors_together() -> None:
    cohort = Cohort.of([_sensor("a"), _sensor("b")])
    first = cohort.take("gw", "run", now=0.0)
    second = cohort.take("gw", "run", now=0.1)
    assert first is not None and second is not None  # no faults: every tick is a frame
    assert second.names is first.names  # one layout, tick after tick
    assert (first.seqs, second.seqs) == ([1, 1], [2, 2])
    assert second.taken_on[0] > first.taken_on[0] and len(set(second.taken_on)) == 1
    cohort.remove("a")
    third = cohort.take("gw", "run", now=0.2)
    assert third is not None
    assert third.names == ["b"] and third.seqs == [3] and first.names == ["a", "b"]


def test_a_cohort_with_a_fault_keeps_each_sensors_seq_gap_free() -> None:
    quiet = replace(_sensor("b"), faults=(parse_fault("dropout@0.05s:0.1s"),))
    cohort = Cohort.of([_sensor("a"), quiet])
    frames = [cohort.take("gw", "run", now=tick / 10) for tick in range(4)]
    assert [(f.names, f.seqs) for f in frames if f is not None] == [
        (["a", "b"], [1, 1]),
        (["a"], [2]),
        (["a", "b"], [3, 2]),
        (["a", "b"], [4, 3]),
    ]
