"""Readings at a rate a person can watch: each sensor at most `max_rate` times a second.

A plant may send 100,000 readings a second; no browser can draw that, and no one can read it.
So the bridge folds what a source sends between two flushes into one reading per sensor: the
latest value wins, and the minimum and maximum of everything folded travel with it (`Min`,
`Max`, `Count`), so a spike of one reading is never hidden. Every client, the original
protocol's included, gets the folded stream; the bytes are made once for all of them.

The work is per frame, never per reading: a source's frames of one layout fold into one `Fold`
with numpy (one conversion and two reductions per frame), and messages are built only when a
fold is flushed, so their cost is bounded by sensors x rate whatever comes in. A frame whose
names repeat without being whole ticks (a backlog merged across layout changes, rare) folds
name by name in Python instead (`LooseFold`).

Flushes happen on a grid of `TICKS_PER_PERIOD` ticks per period: a source is flushed at a tick
if it was last flushed at least a whole period of ticks before, so a sensor never gets more than
`max_rate` readings a second, a quiet one waits at most one tick (a quarter of a period), and
the sources due at a tick go out together, as one batch per client.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from controlroom.plant.readings import Frame, Layout
from workers.bridge.protocol import reading_data

DEFAULT_MAX_RATE_HZ = 4.0
MAX_RATE_HZ = 1000.0  # beyond this a person sees no difference, and a browser cannot keep up
TICKS_PER_PERIOD = 4
MIN_TICK_S = 0.005  # no finer grid than this, whatever the rate: wakes cost too


# A sensor's fold at flush time: (value, taken_on, low, high, count).
Folded = tuple[float, int, float, float, int]


class Fold:
    """A source's readings of one (one-tick) layout since its last flush: per sensor the latest
    value and time, the minimum and maximum; every sensor of a layout has the same count."""

    __slots__ = ("count", "high", "low", "names", "taken_on", "tick", "values")

    def __init__(self, tick: Layout) -> None:
        self.tick = tick  # held, so that its id (the key of this fold) stays its own
        self.names = tick.names
        self.count = 0
        self.values: list[float] = []
        self.taken_on: list[int] = []
        self.low: NDArray[np.float64] = np.empty(0)
        self.high: NDArray[np.float64] = np.empty(0)

    def add(self, frame: Frame) -> None:
        """Fold in a frame of this fold's names (whole ticks of them, in order)."""
        width = len(self.names)
        ticks = len(frame) // width
        values = frame.values
        column = np.array(values, dtype=np.float64)
        if ticks == 1:
            low = high = column
            self.values, self.taken_on = values, frame.taken_on
        else:
            rows = column.reshape(ticks, width)
            low, high = rows.min(axis=0), rows.max(axis=0)
            self.values, self.taken_on = values[-width:], frame.taken_on[-width:]
        if self.count:
            np.minimum(self.low, low, out=self.low)
            np.maximum(self.high, high, out=self.high)
        else:  # arrays of our own, to fold into in place
            self.low, self.high = (low, high.copy()) if ticks == 1 else (low, high)
        self.count += ticks

    def rows(self) -> Iterator[tuple[str, float, int, float, float]]:
        """Each sensor's (name, latest value, its time, low, high), in the layout's order."""
        return zip(
            self.names,
            self.values,
            self.taken_on,
            self.low.tolist(),
            self.high.tolist(),
            strict=True,
        )

    def messages(self) -> list[bytes]:
        count = self.count
        return [
            reading_data(name, value, taken_on, low, high, count)
            for name, value, taken_on, low, high in self.rows()
        ]

    def into(self, by_name: dict[str, Folded]) -> None:
        """Combine into a per-name fold, this fold being the newer."""
        count = self.count
        for name, value, taken_on, low, high in self.rows():
            _combine(by_name, name, (value, taken_on, low, high, count))


class LooseFold:
    """Readings of frames that are not whole ticks of a layout with distinct names (a backlog
    merged across layout changes: rare), folded name by name in Python."""

    __slots__ = ("by_name",)

    def __init__(self) -> None:
        self.by_name: dict[str, Folded] = {}

    def add(self, frame: Frame) -> None:
        by_name = self.by_name
        for name, value, taken_on in zip(frame.names, frame.values, frame.taken_on, strict=True):
            _combine(by_name, name, (value, taken_on, value, value, 1))

    def messages(self) -> list[bytes]:
        return _messages(self.by_name)

    def into(self, by_name: dict[str, Folded]) -> None:
        for name, folded in self.by_name.items():
            _combine(by_name, name, folded)


def _combine(by_name: dict[str, Folded], name: str, newer: Folded) -> None:
    known = by_name.get(name)
    if known is None:
        by_name[name] = newer
    else:
        value, taken_on, low, high, count = newer
        by_name[name] = (value, taken_on, min(known[2], low), max(known[3], high), known[4] + count)


def _messages(by_name: dict[str, Folded]) -> list[bytes]:
    return [reading_data(name, *folded) for name, folded in by_name.items()]


def _distinct(tick: Layout) -> bool:
    """Whether a one-tick layout names each sensor once (checked once per fold, not per frame:
    a C-level set of its names)."""
    return len(set(tick.names)) == len(tick.names)


LOOSE = 0  # the key of a source's LooseFold: no object's id is 0


class Folding:
    """Frames in (`add`, per frame), folded readings out (`emit`, once per tick at most)."""

    def __init__(
        self,
        max_rate: float,
        emit: Callable[[list[bytes]], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        period = 1.0 / max_rate
        self.ticks_per_period = max(1, min(TICKS_PER_PERIOD, math.floor(period / MIN_TICK_S)))
        self.tick_s = period / self.ticks_per_period
        self.emit = emit
        self.clock = clock
        # By source: its folds, keyed by the id of their one-tick layout (a source's frames of
        # the same names share one Layout object, from the decoder), the most recently fed last.
        self.pending: dict[str, dict[int, Fold | LooseFold]] = {}
        self._flushed_at: dict[str, int] = {}  # by source: the tick it was last flushed at
        self._wake = asyncio.Event()

    def add(self, frame: Frame) -> None:
        """A source's frame: folded into what that source has waiting."""
        if not len(frame):
            return
        source = frame.source
        folds = self.pending.get(source)
        if folds is None:
            if not self.pending:
                self._wake.set()
            folds = self.pending[source] = {}
        tick = frame.layout.tick
        key = id(tick)
        fold = folds.pop(key, None)
        if fold is None:
            fold = self._fold_for(folds, frame)
            key = LOOSE if isinstance(fold, LooseFold) else key
        folds[key] = fold  # the most recently fed last: the latest values win on the wire
        fold.add(frame)

    @staticmethod
    def _fold_for(folds: dict[int, Fold | LooseFold], frame: Frame) -> Fold | LooseFold:
        """The fold for a frame whose layout object is new to this source's folds."""
        tick = frame.layout.tick
        if not (_distinct(tick) and frame.layout.ticks_of(tick)):
            return folds.pop(LOOSE, None) or LooseFold()
        # A source that alternates layouts gets a new Layout object each time it comes back to
        # one (the decoder remembers a source's latest only): the same names share a fold.
        for key, fold in folds.items():
            if isinstance(fold, Fold) and fold.names == tick.names:
                del folds[key]
                fold.tick = tick
                return fold
        return Fold(tick)

    def flush(self, tick: int) -> None:
        """Emit every source that is due at `tick` (last flushed a whole period ago)."""
        out: list[bytes] = []
        due = tick - self.ticks_per_period
        flushed_at = self._flushed_at
        for source in [s for s in self.pending if flushed_at.get(s, due) <= due]:
            folds = self.pending.pop(source)
            if len(folds) == 1:
                (fold,) = folds.values()
                out += fold.messages()
            else:  # one reading per sensor, whichever layouts it came in
                by_name: dict[str, Folded] = {}
                for fold in folds.values():
                    fold.into(by_name)
                out += _messages(by_name)
            flushed_at[source] = tick
        if len(flushed_at) > 4 * max(len(self.pending), 1024):
            # Forget sources flushed more than a period ago: they are due anyway.
            self._flushed_at = {s: t for s, t in flushed_at.items() if t > due}
        if out:
            self.emit(out)

    async def run(self) -> None:
        """Flush on the grid while anything is pending; sleep while nothing is."""
        step = self.tick_s
        while True:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
            tick = math.floor(self.clock() / step) + 1
            await asyncio.sleep(max(0.0, tick * step - self.clock()))
            self.flush(tick)
