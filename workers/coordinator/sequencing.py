"""Readings seen before (a redelivery, a retried publish) are dropped before analysis.

Storage is idempotent anyway; this keeps alarms, liveness and viewers seeing each sensor's
readings once and in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import gt

from controlroom.plant.readings import Frame, Layout, shared_value


@dataclass(slots=True)
class _LastFrame:
    """What a source's previous frame left behind: its run, its (one-tick) layout and each
    sensor's last seq.

    `written` says whether the per-name table holds this state too: the fast path only moves
    the seqs here, and they are written out when a frame of this source needs the slow path.
    """

    run: str
    layout: Layout
    seqs: list[int]
    unique: bool
    written: bool = True


class SequenceFilter:
    def __init__(self) -> None:
        self._last: dict[str, tuple[str, int]] = {}
        self._by_source: dict[str, _LastFrame] = {}

    def fresh(self, frame: Frame) -> Frame:
        """The readings of `frame` this coordinator has not seen, in their order."""
        cached = self._by_source.get(frame.source)
        if cached is not None and cached.unique and cached.run == frame.run:
            # Fast path, C loops only: one or more ticks of the source's previous sensors, each
            # tick further on than the one before. A gateway that ticks costs nothing per
            # reading, and neither does the merged backlog of one catching up.
            ticks = frame.ticks_of(cached.layout)
            width = len(cached.layout)
            seqs = frame.seqs
            if ticks and _each_further(seqs, cached.seqs, width):
                cached.seqs = seqs if ticks == 1 else seqs[-width:]
                cached.written = False
                return frame
        if cached is not None and not cached.written:
            runs = zip(repeat(cached.run), cached.seqs)
            self._last.update(zip(cached.layout.names, runs, strict=False))
        fresh = self._filter(frame)
        # Every name of the frame now has this run as its last (a reading is only dropped when
        # it repeats this run), so the cache holds the exact per-name state.
        last = self._last
        tick = frame.layout.tick
        self._by_source[frame.source] = _LastFrame(
            frame.run,
            tick,
            [last[name][1] for name in tick.names],
            len(set(tick.names)) == len(tick.names),
        )
        return fresh

    def _filter(self, frame: Frame) -> Frame:
        last = self._last
        run = frame.run
        keep: list[int] | None = None
        for index, (name, seq) in enumerate(zip(frame.names, frame.seqs, strict=True)):
            previous = last.get(name)
            if previous is not None and previous[0] == run and seq <= previous[1]:
                if keep is None:
                    keep = list(range(index))
                continue
            last[name] = (run, seq)
            if keep is not None:
                keep.append(index)
        if keep is None:
            return frame
        return frame.subset(keep)


def _each_further(seqs: list[int], before: list[int], width: int) -> bool:
    """Whether each tick of `width` seqs is further on than the tick before it, the first
    tick than `before`. Sensors that tick together share one seq: then it is one comparison."""
    now, then = shared_value(seqs), shared_value(before)
    if now is not None and then is not None:
        return len(seqs) == width and now > then
    return all(map(gt, seqs, before)) and all(map(gt, seqs[width:], seqs))
