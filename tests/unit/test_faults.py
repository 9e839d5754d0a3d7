"""Faults: the syntax (every spelling reads back, every bad one is one clear line) and what
value a faulted sensor reads at what time (against a twin walk without the fault)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.readings import Layout
from controlroom.simulation.faults import Fault, FaultSyntaxError, Kind, parse_fault
from controlroom.simulation.timeline import FaultTimeline
from controlroom.simulation.walks import RandomWalks

# --- syntax --------------------------------------------------------------------------------


def test_the_issues_examples() -> None:
    assert parse_fault("spike@30s:+5") == Fault(Kind.SPIKE, 30.0, 5.0)
    assert parse_fault("drift@60s:+0.2/s") == Fault(Kind.DRIFT, 60.0, 0.2)
    assert parse_fault("stuck@120s") == Fault(Kind.STUCK, 120.0)
    assert parse_fault("dropout@150s:20s") == Fault(Kind.DROPOUT, 150.0, duration_s=20.0)
    assert parse_fault("noise@200s:x3") == Fault(Kind.NOISE, 200.0, 3.0)
    assert parse_fault("stuck@2m:1.5m") == Fault(Kind.STUCK, 120.0, duration_s=90.0)
    assert parse_fault("b=drift@500ms:-1/s:1h") == Fault(Kind.DRIFT, 0.5, -1.0, 3600.0, "b")
    assert parse_fault("a=b=spike@0s:-2").sensor == "a=b"


times = st.floats(min_value=0, max_value=366 * 86400.0, allow_nan=False)
spans = st.floats(min_value=1e-6, max_value=366 * 86400.0, allow_nan=False)
durations = st.none() | spans
finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.none() | st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs"), blacklist_characters="@="),
    min_size=1,
    max_size=20,
).filter(str.strip)


@st.composite
def faults(draw: st.DrawFn) -> Fault:
    kind = draw(st.sampled_from(Kind))
    at = draw(times)
    sensor = draw(names)
    if kind is Kind.SPIKE:
        return Fault(kind, at, draw(finite.filter(bool)), sensor=sensor)
    if kind is Kind.DRIFT:
        return Fault(kind, at, draw(finite), draw(durations), sensor)
    if kind is Kind.NOISE:
        factor = draw(st.floats(min_value=1e-9, max_value=1e9))
        return Fault(kind, at, factor, draw(durations), sensor)
    if kind is Kind.DROPOUT:
        return Fault(kind, at, duration_s=draw(spans), sensor=sensor)
    return Fault(kind, at, duration_s=draw(durations), sensor=sensor)


@given(faults())
def test_a_fault_reads_back_as_itself(fault: Fault) -> None:
    assert parse_fault(fault.text()) == fault


@given(st.text(max_size=40))
def test_any_text_is_a_fault_or_one_line_saying_why_not(text: str) -> None:
    try:
        parse_fault(text)
    except FaultSyntaxError as error:
        assert str(error) and "\n" not in str(error)


BAD = [
    ("spike", "no '@'"),
    ("", "no '@'"),
    ("spark@30s:+5", "unknown fault 'spark'"),
    ("spike@30:+5", "'30' is not a number with a unit"),
    ("spike@-3s:+5", "not a number with a unit"),
    ("spike@30s", "its amount is missing"),
    ("spike@30s:five", "'five' is not a number"),
    ("spike@30s:0", "a spike of 0"),
    ("spike@30s:+5:10s", "too many"),
    ("drift@60s:+0.2", "not a rate per second"),
    ("drift@60s:+0.2/s:1s:2s", "too many"),
    ("stuck@120s:0s", "duration must be above 0"),
    ("stuck@120s:+5", "not a number with a unit"),
    ("dropout@150s", "needs its duration"),
    ("noise@200s:3", "not a factor"),
    ("noise@200s:x0", "factor must be above 0"),
    ("noise@1e400s:x2", "beyond a year"),
    ("=spike@1s:+1", "empty sensor name"),
]


@pytest.mark.parametrize(("text", "words"), BAD)
def test_each_bad_spelling_is_one_clear_line(text: str, words: str) -> None:
    with pytest.raises(FaultSyntaxError) as caught:
        parse_fault(text)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_scaled_to_a_faster_clock() -> None:
    fault = parse_fault("drift@60s:+0.2/s:30s").scaled(10)
    assert (fault.at_s, fault.amount, fault.duration_s) == (6.0, 2.0, 3.0)
    assert parse_fault("spike@30s:+5").scaled(10).amount == 5.0


# --- what a faulted sensor reads -----------------------------------------------------------


def twins(count: int = 2) -> tuple[RandomWalks, RandomWalks]:
    """Two walks alike, step for step (same seed): one gets the faults."""
    make = [
        RandomWalks([0.0] * count, [10.0] * count, [0.5] * count, np.random.default_rng(7))
        for _ in range(2)
    ]
    return make[0], make[1]


def play(
    fault: Fault, ticks: list[float]
) -> list[tuple[float, list[int], list[float], list[float]]]:
    """(elapsed, seqs, faulted values, the twin's values) per tick, the faulted sensor 'a'."""
    faulted, plain = twins()
    layout = Layout(["a", "b"])
    timeline = FaultTimeline(layout.names, [fault.for_sensor("a")], faulted)
    out = []
    for elapsed in ticks:
        tick = timeline.tick(layout, elapsed)
        expected = plain.next()
        assert tick is not None  # 'b' has no fault: something is always taken
        values = dict(zip(tick.layout.names, tick.values, strict=True))
        assert values["b"] == expected[1], "a fault of 'a' leaves 'b' alone"
        out.append((elapsed, tick.seqs, [values.get("a", math.nan)], [expected[0]]))
    return out


tick_times = st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=60).map(sorted)


@given(tick_times, st.floats(0, 100), st.floats(-5, 5), st.none() | st.floats(0.1, 50))
def test_a_drift_adds_its_ramp_while_it_lasts(
    ticks: list[float], at: float, rate: float, duration: float | None
) -> None:
    fault = Fault(Kind.DRIFT, at, rate, duration)
    for elapsed, _, [value], [plain] in play(fault, ticks):
        ramp = rate * (elapsed - at) if fault.active(elapsed) else 0.0
        assert value == pytest.approx(plain + ramp, abs=1e-9)


@given(tick_times, st.floats(0, 100))
def test_a_spike_offsets_exactly_one_reading(ticks: list[float], at: float) -> None:
    played = play(Fault(Kind.SPIKE, at, 5.0), ticks)
    offset = [i for i, (_, _, [value], [plain]) in enumerate(played) if value != plain]
    first = next((i for i, (elapsed, *_) in enumerate(played) if elapsed >= at), None)
    assert offset == ([] if first is None else [first])
    if first is not None:
        assert played[first][2][0] == pytest.approx(played[first][3][0] + 5.0)


@given(tick_times, st.floats(0, 100), st.none() | st.floats(0.1, 50))
def test_stuck_holds_the_value_of_its_first_tick(
    ticks: list[float], at: float, duration: float | None
) -> None:
    fault = Fault(Kind.STUCK, at, duration_s=duration)
    frozen: float | None = None
    for elapsed, _, [value], [plain] in play(fault, ticks):
        if fault.active(elapsed):
            frozen = plain if frozen is None else frozen
            assert value == frozen
        else:
            assert value == plain


@given(tick_times, st.floats(0, 100), st.floats(0.1, 50))
def test_a_dropout_takes_no_readings_and_uses_up_no_seq(
    ticks: list[float], at: float, duration: float
) -> None:
    fault = Fault(Kind.DROPOUT, at, duration_s=duration)
    seqs_a: list[int] = []
    faulted, _ = twins()
    layout = Layout(["a", "b"])
    timeline = FaultTimeline(layout.names, [fault.for_sensor("a")], faulted)
    for index, elapsed in enumerate(ticks):
        tick = timeline.tick(layout, elapsed)
        assert tick is not None
        taken = dict(zip(tick.layout.names, tick.seqs, strict=True))
        assert ("a" in taken) is not fault.active(elapsed)
        if "a" in taken:
            seqs_a.append(taken["a"])
        assert taken["b"] == index + 1
    assert seqs_a == list(range(1, len(seqs_a) + 1)), "gap-free: the audit sees nothing lost"


def test_a_dropout_of_every_sensor_is_no_frame_and_its_layout_is_made_once() -> None:
    faulted, _ = twins()
    layout = Layout(["a", "b"])
    timeline = FaultTimeline(
        layout.names,
        [Fault(Kind.DROPOUT, 1.0, duration_s=1.0), Fault(Kind.DROPOUT, 0.5, 2.0, 1.0, "b")],
        faulted,
    )
    first, second = timeline.tick(layout, 0.6), timeline.tick(layout, 0.7)
    assert first is not None and second is not None
    assert first.layout.names == ["a"] and first.layout is second.layout
    assert timeline.tick(layout, 1.2) is None
    back = timeline.tick(layout, 3.0)
    assert back is not None and back.layout is layout and back.seqs == [3, 1]


def test_noise_multiplies_the_step_while_it_lasts() -> None:
    faulted, _ = twins(1)
    layout = Layout(["a"])
    timeline = FaultTimeline(layout.names, [Fault(Kind.NOISE, 10.0, 4.0, 10.0)], faulted)
    values = []
    for second in range(30):
        tick = timeline.tick(layout, float(second))
        assert tick is not None
        values.append(tick.values[0])
    steps = np.abs(np.diff(values))
    assert steps[:9].max() <= 0.5 + 1e-12
    assert steps[10:19].max() > 0.5, "some step beyond the plain step while noisy"
    assert steps[10:19].max() <= 2.0 + 1e-12
    assert steps[20:].max() <= 0.5 + 1e-12, "and back to the plain step after"


def test_a_stopped_sensor_leaves_the_others_faults_in_place() -> None:
    faulted, _ = twins(3)
    layout = Layout(["a", "b", "c"])
    timeline = FaultTimeline(layout.names, [Fault(Kind.STUCK, 0.0, sensor="c")], faulted)
    tick = timeline.tick(layout, 0.0)
    assert tick is not None
    frozen = tick.values[2]
    faulted.remove(0)
    timeline.remove("a")
    smaller = Layout(["b", "c"])
    tick = timeline.tick(smaller, 1.0)
    assert tick is not None and tick.values[1] == frozen and tick.seqs == [2, 2]
