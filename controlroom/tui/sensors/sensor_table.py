"""Every sensor at a glance, one row each, drawn by one Line API widget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style

from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import format_number
from controlroom.tui.line_list import HEADER_STYLE, LineList, fit
from controlroom.tui.model import SensorView
from controlroom.tui.sensors.sparkline import sparkline
from controlroom.tui.states import STATE_WIDTH, format_range, state_label, state_style

DIM = Style(dim=True)
VALUE = Style(bold=True)
SPARK = Style()  # trends in the text colour: colour is for what is abnormal (ISA-101)
GAP = Segment(" ")
TWIN_MARK = "⚠ "  # before the name of a sensor two processes read at once


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for one table width: the name and the sparkline take what is left."""

    name: int
    serial: int = 8
    value: int = 10
    unit: int = 5
    safe: int = 13
    spark: int = 8
    state: int = STATE_WIDTH

    @classmethod
    def for_width(cls, width: int, longest_name: int) -> Columns:
        fixed = 8 + 10 + 5 + 13 + STATE_WIDTH + 6  # the other columns and the gaps between
        free = max(width - fixed - 1, 20)
        name = min(max(longest_name, 12), 28, max(free - 8, 12))
        return cls(name=name, spark=max(free - name, 4))


class SensorTable(LineList):
    """The main screen's rows. `show(rows)` when the set changes; `refresh()` for new values."""

    DEFAULT_CSS = """
    SensorTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Sequence[SensorView] = []
        # Each sensor's most urgent open alarm: a HIGH or LOW takes its priority colour.
        self.alarms: Mapping[str, Alarm] = {}
        self._columns: Columns | None = None
        self._columns_for: tuple[int, int] = (0, 0)
        self._longest = 12

    def show(self, rows: Sequence[SensorView]) -> None:
        """New row set (filter, new sensors, pause): keep the cursor on the same sensor."""
        selected = self.selected
        self.rows = rows
        self._longest = max((len(row.name) for row in rows), default=12)
        if selected is not None:
            for index, row in enumerate(rows):
                if row.name == selected.name:
                    self.cursor = index
                    break
        self.rows_changed()

    def freeze(self, rows: Sequence[SensorView]) -> None:
        """Swap in still copies of the rows on screen; no redraw, the screen already shows them."""
        self.rows = rows

    @property
    def selected(self) -> SensorView | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def row_count(self) -> int:
        return len(self.rows)

    def columns(self, width: int) -> Columns:
        longest = self._longest  # measured once per row set, not once per line drawn
        if self._columns is None or self._columns_for != (width, longest):
            self._columns = Columns.for_width(width, longest)
            self._columns_for = (width, longest)
        return self._columns

    def render_header(self, width: int) -> list[Segment]:
        c = self.columns(width)
        text = " ".join(
            (
                " " + fit("SENSOR", c.name),
                fit("SERIAL", c.serial),
                fit("VALUE", c.value, right=True),
                fit("UNIT", c.unit),
                fit("SAFE RANGE", c.safe),
                fit("RECENT", c.spark),
                fit("STATE", c.state),
            )
        )
        return [Segment(text, HEADER_STYLE)]

    def render_row(self, index: int, width: int) -> list[Segment]:
        row = self.rows[index]
        c = self.columns(width)
        info = row.info
        state = row.state
        silent = state in ("STALE", "OFFLINE")
        alarm = self.alarms.get(row.name)
        return [
            Segment(" " + fit(TWIN_MARK + row.name if row.twin else row.name, c.name) + " "),
            Segment(fit(info.serial_no, c.serial) + " ", DIM),
            Segment(fit(format_number(row.value), c.value, right=True), DIM if silent else VALUE),
            GAP,
            Segment(fit(info.unit, c.unit) + " "),
            Segment(fit(format_range(info.safe_min, info.safe_max), c.safe) + " ", DIM),
            Segment(sparkline(row.values(c.spark), c.spark) + " ", DIM if silent else SPARK),
            Segment(fit(state_label(state), c.state), state_style(state, alarm)),
        ]
