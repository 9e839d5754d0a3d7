"""Readings seen before (a redelivery, a retried publish) are dropped before analysis.

Storage is idempotent anyway; this keeps alarms, liveness and viewers seeing each sensor's
readings once and in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import gt

from controlroom.messages import Frame


@dataclass(slots=True)
class _LastFrame:
    """What a source's previous frame left behind: its run, names and each name's last seq."""

    run: str
    names: list[str]
    seqs: list[int]
    unique: bool


class SequenceFilter:
    def __init__(self) -> None:
        self._last: dict[str, tuple[str, int]] = {}
        self._by_source: dict[str, _LastFrame] = {}

    def fresh(self, frame: Frame) -> Frame:
        """The readings of `frame` this coordinator has not seen, in their order."""
        cached = self._by_source.get(frame.source)
        # Fast path, C loops only: the same sensors as the source's previous frame, each one
        # further on. The common case of a gateway that ticks, so it costs no Python per reading.
        if (
            cached is not None
            and cached.unique
            and cached.run == frame.run
            and cached.names == frame.names
            and all(map(gt, frame.seqs, cached.seqs))
        ):
            self._last.update(zip(frame.names, zip(repeat(frame.run), frame.seqs), strict=True))
            cached.seqs = frame.seqs
            return frame
        fresh = self._filter(frame)
        # Every name of the frame now has this run as its last (a reading is only dropped when
        # it repeats this run), so the cache holds the exact per-name state.
        last = self._last
        self._by_source[frame.source] = _LastFrame(
            frame.run,
            frame.names,
            [last[name][1] for name in frame.names],
            len(set(frame.names)) == len(frame.names),
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
