"""Readings travel as frames: one source's readings of one tick (or of merged ticks), in columns.

A source names the same sensors in the same order tick after tick. That order is a `Layout`,
made once per source and then shared by every frame that repeats it, so each hop keeps its
per-sensor state (dedup, alarm bounds, liveness, a database id) for the layout and does only C
loops, or nothing, per reading: it recognises a layout it has seen by identity.
"""

from __future__ import annotations

from collections.abc import Sequence


class Layout:
    """The sensors of a frame, in order.

    A backlog merged from several ticks of one layout is that layout repeated: its `tick` is
    the one-tick layout and `ticks` says how many times it repeats, so a hop that knows the
    tick layout knows the merged one too. Compare layouts with `is`; equal names make equal
    layouts, but only the same object says "seen before".
    """

    __slots__ = ("_repeated", "names", "tick", "ticks")

    def __init__(self, names: Sequence[str], *, tick: Layout | None = None) -> None:
        self.names: list[str] = names if isinstance(names, list) else list(names)
        self.tick: Layout = self if tick is None else tick
        self.ticks: int = 1 if tick is None else len(self.names) // max(len(tick.names), 1)
        self._repeated: dict[int, Layout] = {}

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and other.names == self.names

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, compared by names

    def __repr__(self) -> str:
        return f"Layout({self.names!r})"

    def repeated(self, ticks: int) -> Layout:
        """This (one-tick) layout `ticks` times over: the layout of a merged backlog."""
        base = self.tick
        if ticks == 1:
            return base
        layout = base._repeated.get(ticks)
        if layout is None:
            if len(base._repeated) > 64:
                base._repeated.clear()
            layout = base._repeated[ticks] = Layout(base.names * ticks, tick=base)
        return layout

    def ticks_of(self, tick: Layout) -> int:
        """How many ticks of the one-tick layout `tick` this layout is, or 0."""
        return self.ticks if self.tick is tick else 0


class Frame:
    """Readings taken by one source, in columns: `seqs` count each sensor's readings within
    one run of the source from 1, so the audit can find gaps and duplicates.

    `encoded` is the message body the frame was decoded from, if it was: a frame passed on
    unchanged is sent on as those bytes (the codec embeds them), not encoded again.
    """

    __slots__ = ("encoded", "layout", "run", "seqs", "source", "taken_on", "values")

    def __init__(
        self,
        source: str,
        run: str,
        names: Layout | Sequence[str],
        seqs: list[int],
        taken_on: list[int],
        values: list[float],
        *,
        encoded: bytes | None = None,
    ) -> None:
        self.source = source
        self.run = run
        self.layout = names if isinstance(names, Layout) else Layout(names)
        self.seqs = seqs
        self.taken_on = taken_on
        self.values = values
        self.encoded = encoded

    @property
    def names(self) -> list[str]:
        return self.layout.names

    def __len__(self) -> int:
        return len(self.layout.names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (self.source, self.run, self.names, self.seqs, self.taken_on, self.values) == (
            other.source,
            other.run,
            other.names,
            other.seqs,
            other.taken_on,
            other.values,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frame({self.source!r}, {self.run!r}, {len(self)} readings)"

    def ticks_of(self, tick: Layout) -> int:
        """How many ticks of the one-tick layout `tick` this frame holds, in order, or 0."""
        return self.layout.ticks_of(tick)

    def subset(self, indexes: list[int]) -> Frame:
        """The readings at `indexes`, in that order (what a filter keeps of a frame)."""
        names = self.names
        return Frame(
            self.source,
            self.run,
            [names[i] for i in indexes],
            [self.seqs[i] for i in indexes],
            [self.taken_on[i] for i in indexes],
            [self.values[i] for i in indexes],
        )

    @classmethod
    def merge(cls, frames: Sequence[Frame]) -> Frame:
        """Frames of one source run joined in order, so a backlog travels as one message."""
        first = frames[0]
        tick = first.layout.tick
        if all(frame.layout.tick is tick for frame in frames):
            layout = tick.repeated(sum(frame.layout.ticks for frame in frames))
        else:
            layout = Layout([name for frame in frames for name in frame.names])
        seqs: list[int] = []
        taken_on: list[int] = []
        values: list[float] = []
        for frame in frames:
            seqs += frame.seqs
            taken_on += frame.taken_on
            values += frame.values
        return cls(first.source, first.run, layout, seqs, taken_on, values)


def shared_value(column: list[int]) -> int | None:
    """The one value every reading of a column shares (sensors that tick together share their
    seq and time), or None. An identity check per element: nearly free."""
    if column and column.count(column[0]) == len(column):
        return column[0]
    return None
