"""Twin runs: one sensor's name read at the same time by two sources, so two processes use it.

A source claims its sensors' names only up to `CLAIM_EACH_UP_TO` sensors
(`controlroom.broker.claims`): a sensor of a larger gateway and a lone sensor of the same name
can both run. This handler sees it from the readings: for each run of a source it keeps the
first and the latest reading time, and two runs of different sources that carry one name are
twins once those spans overlap. A restart never overlaps (the new run begins after the old one's
last reading) and neither does a backlog read late (`taken_on` is when a reading was taken).

Cost: the per-name work happens when a source's run or sensor list (its `Layout`) is new. A
frame of a known layout costs one lookup and a comparison with the time at which its run would
begin to overlap another (`_Run.watch`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from controlroom.plant.readings import Frame, Layout
from controlroom.wire.envelopes import TwinWarning
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import FrameReceived, SourceLeft, TwinsFound

log = logging.getLogger(__name__)

RunKey = tuple[str, str]  # (source, run)


@dataclass(slots=True)
class _Run:
    """One run of one source: the span of its reading times, and the later runs it would
    overlap once its readings reach their first time (`pending`, earliest first in `watch`)."""

    key: RunKey
    first: int
    last: int
    tick: Layout | None = None  # the (one-tick) layout of its latest frame
    names: set[str] = field(default_factory=set)
    pending: dict[RunKey, tuple[int, str]] = field(default_factory=dict)  # other: (first, name)
    watch: float = math.inf


class TwinWatch:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._runs: dict[RunKey, _Run] = {}
        self._latest: dict[str, _Run] = {}  # by source: its current run
        self._carriers: dict[str, dict[RunKey, _Run]] = {}  # by sensor name
        self._reported: set[tuple[RunKey, RunKey]] = set()
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(
            SourceLeft, lambda event: self._forget((event.goodbye.source, event.goodbye.run))
        )

    @property
    def runs(self) -> int:
        """How many runs it keeps (the current run of each source it has heard)."""
        return len(self._runs)

    def _on_frame(self, event: FrameReceived) -> None:
        frame = event.frame
        if not len(frame):
            return
        run = self._latest.get(frame.source)
        if run is not None and run.tick is frame.layout.tick and run.key[1] == frame.run:
            last = frame.taken_on[-1]  # a source's readings come in order
            if last > run.last:
                run.last = last
                if last >= run.watch:
                    self._overlapping(run)
            return
        self._new_layout(frame, run)

    def _new_layout(self, frame: Frame, latest: _Run | None) -> None:
        key = (frame.source, frame.run)
        run = self._runs.get(key)
        if run is None:
            if latest is not None:
                self._forget(latest.key)  # a restart: the older run is over
            run = self._runs[key] = _Run(key, min(frame.taken_on), max(frame.taken_on))
            self._latest[frame.source] = run
        else:
            run.last = max(run.last, max(frame.taken_on))
        run.tick = tick = frame.layout.tick
        others: dict[RunKey, tuple[_Run, str]] = {}  # each with a name it shares
        for name in tick.names:
            if name in run.names:
                continue
            run.names.add(name)
            carriers = self._carriers.setdefault(name, {})
            for other in carriers.values():
                if other.key[0] != frame.source and other.key not in others:
                    others[other.key] = (other, name)
            carriers[key] = run
        for other, name in others.values():
            self._pair(run, other, name)
        if run.last >= run.watch:
            self._overlapping(run)

    def _pair(self, run: _Run, other: _Run, name: str) -> None:
        """Two runs of different sources that carry `name`: twins now, or when the earlier
        one reads on into the later one's span."""
        if (run.key, other.key) in self._reported or (other.key, run.key) in self._reported:
            return
        if run.first <= other.last and other.first <= run.last:
            self._report(run, other, name)
            return
        earlier, later = (run, other) if run.last < other.first else (other, run)
        if later.key not in earlier.pending:
            earlier.pending[later.key] = (later.first, name)
            earlier.watch = min(earlier.watch, later.first)

    def _overlapping(self, run: _Run) -> None:
        """`run` has read on past a later run's first time: those are twins."""
        for other_key, (first, name) in list(run.pending.items()):
            if first <= run.last:
                del run.pending[other_key]
                other = self._runs.get(other_key)
                if other is not None:
                    self._report(run, other, name)
        run.watch = min((first for first, _ in run.pending.values()), default=math.inf)

    def _report(self, run: _Run, other: _Run, name: str) -> None:
        """One warning per sensor the two runs share, one log line for the pair."""
        self._reported.add((run.key, other.key))
        run.pending.pop(other.key, None)
        other.pending.pop(run.key, None)
        older, newer = sorted((run, other), key=lambda each: each.first)
        fewer, more = sorted((run, other), key=lambda each: len(each.names))
        shared = [name, *sorted(fewer.names.intersection(more.names) - {name})]
        sources, runs = [older.key[0], newer.key[0]], [older.key[1], newer.key[1]]
        warnings = [TwinWarning(sensor, sources, runs, newer.first) for sensor in shared]
        for warning in warnings:
            self._bus.emit(TwinsFound(warning))
        others = f" (and {len(shared) - 1} more of their sensors)" if len(shared) > 1 else ""
        log.warning("%s%s", warnings[0].describe(), others)

    def _forget(self, key: RunKey) -> None:
        run = self._runs.pop(key, None)
        if run is None:
            return
        if self._latest.get(key[0]) is run:
            del self._latest[key[0]]
        for name in run.names:
            carriers = self._carriers.get(name)
            if carriers is not None:
                carriers.pop(key, None)
                if not carriers:
                    del self._carriers[name]
        self._reported = {pair for pair in self._reported if key not in pair}
