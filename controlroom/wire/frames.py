"""The frame codec: readings in columns on the wire, and the layouts a decoder has checked.

On the wire, a column whose readings all share one value (the seq and the time of a tick of
sensors that tick together) is that one integer instead of a list: it halves a frame. In
memory every column is a list.
"""

from __future__ import annotations

from typing import Final

import msgspec

from controlroom.errors import InvalidMessage
from controlroom.plant.readings import Frame, Layout, shared_value
from controlroom.wire.fields import (
    Finite,
    Ident,
    Micros,
    Seq,
    check_id,
    check_sensor_name,
    latest_allowed_us,
)


class FrameMessage(msgspec.Struct, tag="frame", tag_field="type"):
    """A frame as it travels; `Frame` is what every hop works with."""

    source: str
    run: Ident
    names: list[str]
    seqs: Seq | list[Seq]
    taken_on: Micros | list[Micros]
    values: list[Finite]

    @classmethod
    def of(cls, frame: Frame) -> FrameMessage:
        return cls(
            frame.source,
            frame.run,
            frame.names,
            _shared_or_column(frame.seqs),
            _shared_or_column(frame.taken_on),
            frame.values,
        )


def _shared_or_column(column: list[int]) -> int | list[int]:
    """One integer for a column whose readings all share it, else the column."""
    shared = shared_value(column)
    return column if shared is None else shared


def _column(value: int | list[int], count: int) -> list[int]:
    if type(value) is int:
        return [value] * count
    assert isinstance(value, list)
    if len(value) != count:
        raise InvalidMessage("frame columns differ in length")
    return value


class LayoutBook:
    """The layout of each source's latest frame, with its names checked once.

    A decoder owns one: a frame whose names equal its source's previous ones gets that same
    layout back (no name is checked again, and its strings already carry their hashes for
    every dictionary downstream); a merged backlog of that layout is recognised too.
    """

    MAX_SOURCES: Final = 10_000
    MAX_NAMES: Final = 100_000

    def __init__(self) -> None:
        self._by_source: dict[str, Layout] = {}
        self._known_names: set[str] = set()

    def layout(self, source: str, names: list[str]) -> Layout:
        known = self._by_source.get(source)
        if known is not None:
            tick = known.tick
            if names == tick.names:
                return tick
            width = len(tick.names)
            if width and len(names) % width == 0 and _repeats(names, tick.names):
                return tick.repeated(len(names) // width)
        for name in names:
            if name not in self._known_names:
                self._remember(name)
        if len(self._by_source) >= self.MAX_SOURCES:
            self._by_source.clear()
        layout = self._by_source[source] = Layout(names)
        return layout

    def _remember(self, name: str) -> None:
        checked = check_sensor_name(name)
        if len(self._known_names) >= self.MAX_NAMES:
            self._known_names.clear()
        self._known_names.add(checked)


def _repeats(names: list[str], tick: list[str]) -> bool:
    width = len(tick)
    return all(names[start : start + width] == tick for start in range(0, len(names), width))


def frame_from_message(message: FrameMessage, layouts: LayoutBook, body: bytes | None) -> Frame:
    """The frame a message carries, checked: columns of one length, no time in the future."""
    count = len(message.names)
    if len(message.values) != count:
        raise InvalidMessage("frame columns differ in length")
    source = check_sensor_name(message.source)
    check_id(message.run, "run id")
    times = message.taken_on
    latest = times if isinstance(times, int) else max(times, default=0)
    if latest > latest_allowed_us():
        raise InvalidMessage("frame taken_on must be microseconds between 2000 and now")
    seqs = _column(message.seqs, count)
    taken_on = _column(message.taken_on, count)
    layout = layouts.layout(source, message.names)
    return Frame(source, message.run, layout, seqs, taken_on, message.values, encoded=body)
