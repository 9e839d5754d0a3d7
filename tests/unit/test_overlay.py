"""Sensors laid over each other: each on its own scale, or normalised to its safe range."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.tui.detail.history_chart import (
    Scale,
    Series,
    normalised,
    onto,
    overlay_lines,
    span,
)
from controlroom.tui.states import RANGE_DASH

values = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50)


def test_normalised_puts_every_safe_range_on_zero_and_one() -> None:
    boiler = Series("boiler", "C", [1, 2, 3], [580.0, 602.5, 625.0], 580.0, 625.0)
    assert normalised(boiler) == [0.0, 0.5, 1.0]
    valve = Series("valve", "%", [1, 2], [0.0, 10.0], None, 5.0)  # one side: its own span
    assert normalised(valve) == [0.0, 1.0]


@given(values, values)
def test_on_its_own_scale_a_line_spans_the_first_ones_range(
    main: list[float], other: list[float]
) -> None:
    first = Series("a", "MPa", list(range(len(main))), main)
    second = Series("b", "C", list(range(len(other))), other)
    lines = overlay_lines(first, [second], Scale.OWN)
    assert lines[0][1] == main, "the first sensor keeps its values (the axis is its)"
    drawn = lines[1][1]
    low, high = span(main)  # the first one's range (a unit around it if it is flat)
    if max(other) - min(other) > 1e-6 * max(1.0, abs(max(other))):
        assert min(drawn) == pytest.approx(low, abs=1e-6 * max(1.0, abs(low)))
        assert max(drawn) == pytest.approx(high, abs=1e-6 * max(1.0, abs(high)))
    # the order of the readings is kept: the shape is the sensor's
    pairs = list(zip(other, drawn, strict=True))
    for (a, da), (b, db) in pairwise(pairs):
        if a < b:
            assert da <= db


def test_each_line_says_what_it_is() -> None:
    first = Series("boiler_pressure_out", "MPa", [1, 2], [15.2, 15.4])
    second = Series("boiler_temp_out", "C", [1, 2], [598.0, 625.0])
    legends = [legend for _, _, legend in overlay_lines(first, [second], Scale.OWN)]
    assert legends == ["boiler_pressure_out (MPa)", f"boiler_temp_out (598{RANGE_DASH}625 C)"]
    flat = onto(Series("flat", "", [1, 2], [3.0, 3.0]), (0.0, 10.0))
    assert flat == [5.0, 5.0], "a flat line sits in the middle"
