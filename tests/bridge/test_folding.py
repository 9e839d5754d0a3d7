"""Folding readings to a watchable rate: the latest value wins, the extremes are kept, the rate
holds, and whatever the frames look like the result is what a reading-by-reading fold says."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.readings import Frame, Layout
from workers.bridge.folding import Fold, Folding, LooseFold

T0 = 1_764_318_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def folding(rate: float = 4.0) -> tuple[Folding, list[list[dict[str, Any]]]]:
    out: list[list[dict[str, Any]]] = []
    fold = Folding(rate, lambda datas: out.append([orjson.loads(d) for d in datas]), Clock())
    return fold, out


def frame(layout: Layout, values: list[float], source: str = "gw", start: int = 0) -> Frame:
    n = len(values)
    return Frame(
        source, "r", layout, list(range(1, n + 1)), [T0 + start + i for i in range(n)], values
    )


def test_a_lone_reading_is_exactly_the_original_format() -> None:
    fold, out = folding()
    fold.add(frame(Layout(["a", "b"]), [1.0, 2.0]))
    fold.flush(100)
    assert [sorted(d) for d in out[0]] == [["Name", "Timestamp", "Value"]] * 2
    assert [(d["Name"], d["Value"]) for d in out[0]] == [("a", 1.0), ("b", 2.0)]


def test_a_one_reading_spike_survives_in_min_and_max() -> None:
    fold, out = folding()
    layout = Layout(["a", "b"])
    for i, spike in enumerate([50.0, 50.0, 999.0, 50.0, -7.0, 50.0]):
        fold.add(frame(layout, [spike, 1.0 + i], start=10 * i))
    fold.flush(100)
    (a, b) = out[0]
    assert a == a | {"Name": "a", "Value": 50.0, "Min": -7.0, "Max": 999.0, "Count": 6}
    assert b == b | {"Name": "b", "Value": 6.0, "Min": 1.0, "Max": 6.0, "Count": 6}
    assert b["Timestamp"].endswith("00.000051Z")  # the latest reading's time


def test_a_source_is_flushed_at_most_once_a_period() -> None:
    fold, out = folding(rate=4.0)  # 4 ticks of 62.5 ms per 250 ms period
    layout = Layout(["a"])
    emitted_at = []
    for tick in range(100, 140):
        fold.add(frame(layout, [float(tick)]))
        before = len(out)
        fold.flush(tick)
        if len(out) > before:
            emitted_at.append(tick)
    assert emitted_at == list(range(100, 140, 4))  # every 4th tick: 4 a second
    assert [batch[0].get("Count", 1) for batch in out[1:]] == [4] * (len(out) - 1)
    (waiting,) = fold.pending["gw"].values()
    assert isinstance(waiting, Fold)
    assert sum(batch[0].get("Count", 1) for batch in out) + waiting.count == 40  # none lost


def test_merged_backlogs_and_layout_changes_fold_like_single_readings() -> None:
    fold, out = folding()
    tick = Layout(["a", "b"])
    fold.add(frame(tick.repeated(3), [1.0, 10.0, 5.0, 20.0, 3.0, 15.0]))
    fold.add(frame(Layout(["b", "c"]), [-1.0, 7.0], start=100))  # another layout, same source
    fold.flush(100)
    a, b, c = out[0]  # one reading per sensor, whichever layouts it came in
    assert a == a | {"Name": "a", "Value": 3.0, "Min": 1.0, "Max": 5.0, "Count": 3}
    assert b == b | {"Name": "b", "Value": -1.0, "Min": -1.0, "Max": 20.0, "Count": 4}
    assert (c["Name"], c["Value"], "Count" in c) == ("c", 7.0, False)


def test_a_source_that_alternates_layouts_keeps_one_fold_per_set_of_names() -> None:
    """The decoder gives a layout it comes back to a new Layout object each time."""
    fold, out = folding()
    for i in range(10):
        names = ["fast", "slow"] if i % 5 == 0 else ["fast"]
        fold.add(frame(Layout(names), [float(i)] * len(names)))
    assert len(fold.pending["gw"]) == 2
    fold.flush(100)
    assert sorted((d["Name"], d["Value"], d.get("Count", 1)) for d in out[0]) == [
        ("fast", 9.0, 10),
        ("slow", 5.0, 2),
    ]


def test_a_frame_whose_names_repeat_unevenly_folds_name_by_name() -> None:
    fold, out = folding()
    fold.add(frame(Layout(["a", "b", "a"]), [1.0, 2.0, 3.0]))
    assert isinstance(next(iter(fold.pending["gw"].values())), LooseFold)
    fold.flush(100)
    assert [(d["Name"], d["Value"], d.get("Min"), d.get("Count")) for d in out[0]] == [
        ("a", 3.0, 1.0, 2),
        ("b", 2.0, None, None),
    ]


frames_of_one_source = st.lists(
    st.tuples(
        st.sampled_from([("a",), ("a", "b"), ("b", "a"), ("a", "a", "b"), ("c",)]),
        st.integers(1, 3),
        st.lists(st.floats(-1e6, 1e6), min_size=9, max_size=9),
    ),
    max_size=12,
)


@given(frames_of_one_source)
def test_folding_matches_a_reading_by_reading_fold(frames: list[Any]) -> None:
    """However frames come, each sensor gets one reading: the latest value, the extremes and
    the count of every reading folded."""
    fold, out = folding()
    layouts = {names: Layout(list(names)) for names, _, _ in frames}
    expected: dict[str, tuple[float, float, float, int]] = {}
    for number, (names, ticks, pool) in enumerate(frames):
        flat = list(names) * ticks
        even = len(set(names)) == len(names)
        layout = layouts[names].repeated(ticks) if even else Layout(flat)
        values = pool[: len(flat)]
        fold.add(frame(layout, values, start=1000 * number))
        for name, value in zip(flat, values, strict=True):
            low, high, count = expected[name][1:] if name in expected else (value, value, 0)
            expected[name] = (value, min(low, value), max(high, value), count + 1)
    fold.flush(100)
    emitted = out[0] if out else []
    got = {
        d["Name"]: (
            d["Value"],
            d.get("Min", d["Value"]),
            d.get("Max", d["Value"]),
            d.get("Count", 1),
        )
        for d in emitted
    }
    assert len(got) == len(emitted)
    assert got == expected
    assert not fold.pending


async def test_the_flusher_sleeps_when_idle_and_wakes_for_a_frame() -> None:
    got: asyncio.Queue[list[bytes]] = asyncio.Queue()
    fold = Folding(100.0, got.put_nowait)
    runner = asyncio.create_task(fold.run())
    try:
        fold.add(frame(Layout(["a"]), [1.0]))
        async with asyncio.timeout(5):
            (data,) = await got.get()
        assert orjson.loads(data)["Value"] == 1.0
        assert not fold.pending
    finally:
        runner.cancel()
