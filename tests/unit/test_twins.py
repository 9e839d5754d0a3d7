"""Twin runs: the coordinator warns once about each sensor two sources read at the same time."""

from __future__ import annotations

import logging
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.plant.readings import Frame
from controlroom.wire.codec import Decoder, encode
from controlroom.wire.envelopes import Goodbye, TwinWarning
from workers.coordinator.aggregator import EventAggregator
from workers.coordinator.events import SourceLeft, TwinsFound

T0 = 1_700_000_000_000_000
S = 1_000_000
NAMES = ["a", "b", "c", "d"]


class Plant:
    """A coordinator's bus with the twin watch, fed frames as the broker delivers them."""

    def __init__(self) -> None:
        self.aggregator = EventAggregator()
        self.decoder = Decoder()
        self.warnings: list[TwinWarning] = []
        self.aggregator.bus.subscribe(TwinsFound, lambda event: self.warnings.append(event.warning))

    def tick(self, source: str, run: str, names: list[str], at: int, seq: int = 1) -> None:
        n = len(names)
        frame = Frame(source, run, names, [seq] * n, [at] * n, [1.0] * n)
        self.aggregator.frame_received(self.decoder.decode_as(encode(frame), Frame))

    def pairs(self) -> set[tuple[str, frozenset[tuple[str, str]]]]:
        return {
            (warning.sensor, frozenset(zip(warning.sources, warning.runs, strict=True)))
            for warning in self.warnings
        }


def test_a_lone_sensor_beside_a_gateway_of_the_same_name_is_a_twin(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plant = Plant()
    with caplog.at_level(logging.WARNING, logger="workers.coordinator.twins"):
        for second in range(5):
            plant.tick("gw", "run-gw", ["a", "b"], T0 + second * S, second + 1)
            if second >= 2:
                plant.tick("a", "run-a", ["a"], T0 + second * S + S // 2, second - 1)
    assert plant.pairs() == {("a", frozenset({("gw", "run-gw"), ("a", "run-a")}))}
    warning = plant.warnings[0]
    assert warning.sources == ["gw", "a"] and warning.since == T0 + 2 * S + S // 2
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [warning.describe()]
    assert "sensor 'a' runs twice" in lines[0]


def test_an_older_run_reading_on_into_a_newer_one_is_found_on_the_fast_path() -> None:
    plant = Plant()
    plant.tick("gw", "run-gw", ["a", "b"], T0)
    plant.tick("a", "run-a", ["a"], T0 + S // 2)  # not yet: gw's last reading is older
    assert plant.warnings == []
    plant.tick("gw", "run-gw", ["a", "b"], T0 + S, 2)  # the same layout: the fast path
    assert plant.pairs() == {("a", frozenset({("gw", "run-gw"), ("a", "run-a")}))}
    plant.tick("gw", "run-gw", ["a", "b"], T0 + 2 * S, 3)
    assert len(plant.warnings) == 1  # once per pair, not per frame


def test_a_restart_and_a_backlog_read_late_are_not_twins() -> None:
    plant = Plant()
    plant.tick("a", "run-1", ["a"], T0)
    plant.tick("a", "run-1", ["a"], T0 + S, 2)
    plant.tick("a", "run-2", ["a"], T0 + 2 * S)  # a restart of the same source
    # A gateway's backlog, read after the lone sensor's readings: taken before it started.
    plant.tick("gw", "run-gw", ["a", "b"], T0 - 5 * S)
    plant.tick("gw", "run-gw", ["a", "b"], T0 - 4 * S, 2)
    assert plant.warnings == []


def test_a_run_that_said_goodbye_is_forgotten() -> None:
    plant = Plant()
    plant.tick("a", "run-a", ["a"], T0)
    plant.aggregator.handle(SourceLeft(Goodbye("a", "run-a", {"a": 1})))
    plant.tick("gw", "run-gw", ["a", "b"], T0)
    assert plant.warnings == []
    assert plant.aggregator.twins.runs == 1


def test_twins_sharing_several_sensors_warn_of_each_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plant = Plant()
    with caplog.at_level(logging.WARNING, logger="workers.coordinator.twins"):
        plant.tick("gw1", "r1", ["a", "b", "c"], T0)
        plant.tick("gw2", "r2", ["c", "b", "d"], T0)
    assert sorted(warning.sensor for warning in plant.warnings) == ["b", "c"]
    assert len(caplog.records) == 1
    assert "and 1 more of their sensors" in caplog.records[0].getMessage()


def test_the_warning_checks_what_it_carries() -> None:
    from controlroom.errors import InvalidMessage

    with pytest.raises(InvalidMessage, match="two sources and two runs"):
        TwinWarning("a", ["gw"], ["r1"], T0)
    warning = TwinWarning("a", ["gw", "a"], ["r1", "r2"], T0)
    assert Decoder().decode(encode(warning)) == warning


# --- the rule, against random runs ----------------------------------------------------------

run_shapes = st.lists(
    st.tuples(
        st.sets(st.sampled_from(NAMES), min_size=1),  # its sensors
        st.integers(0, 30),  # its first reading, in seconds
        st.integers(1, 8),  # how many ticks
        st.integers(0, 40),  # how late its readings are delivered, in seconds
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(run_shapes)
def test_twins_are_exactly_the_overlapping_runs_of_different_sources(
    shapes: list[tuple[set[str], int, int, int]],
) -> None:
    plant = Plant()
    spans: dict[tuple[str, str], tuple[set[str], int, int]] = {}
    deliveries = []
    for index, (names, start, ticks, delay) in enumerate(shapes):
        key = (f"source{index}", f"run{index}")
        spans[key] = (names, start * S, (start + ticks - 1) * S)
        for tick in range(ticks):
            at = (start + tick) * S
            deliveries.append((at + delay * S, index, tick, key, sorted(names), at))
    for _, _, tick, (source, run), in_order, at in sorted(deliveries):
        plant.tick(source, run, in_order, T0 + at, tick + 1)
    expected = set()
    for (one, (names_1, first_1, last_1)), (two, (names_2, first_2, last_2)) in combinations(
        spans.items(), 2
    ):
        if first_1 <= last_2 and first_2 <= last_1:
            expected |= {(name, frozenset({one, two})) for name in names_1 & names_2}
    assert plant.pairs() == expected
    assert len(plant.warnings) == len(expected)  # each once
