"""What the alarm history and the action log share: filters on top, the newest matching rows
from PostgreSQL below (queried again as a filter changes), `s` to save them as CSV.

A filter field that does not parse says so beside the list and queries nothing; the database
away is one line, and the rows shown stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static

from controlroom.clock import parse_duration, parse_moment, us_to_datetime
from controlroom.db.alarm_log import MAX_ROWS
from controlroom.db.history import History
from controlroom.errors import ControlroomError
from controlroom.tui.line_list import HEADER_STYLE, LineList
from controlroom.tui.saving import Write, csv_path, save_csv
from controlroom.tui.states import MUTED

Row = TypeVar("Row")
DEFAULT_SINCE = "24h"


def stamp(us: int | None) -> str:
    """A moment with its day, in local time (history spans days)."""
    if us is None:
        return ""
    return us_to_datetime(us).astimezone().strftime("%m-%d %H:%M:%S")


def moment_us(text: str, now_us: int) -> int | None:
    """One end of a window: a span back from now (`24h`, `7d`), or a moment (`2026-12-01T03:10Z`,
    `2026-12-01 03:10` in local time); None if empty; ValueError if neither."""
    text = text.strip()
    if not text:
        return None
    span = parse_duration(text)
    if span is not None and span > timedelta(0):
        return now_us - int(span.total_seconds() * 1_000_000)
    moment = parse_moment(text, now_us) if span is None else None
    if moment is None:
        raise ValueError(
            f"'{text}' is not a span like 15m, 24h or 7d, nor a moment like 2026-12-01T03:10Z"
        )
    return moment


class RowList(LineList, Generic[Row]):
    """Rows drawn by the screen's own functions."""

    DEFAULT_CSS = """
    RowList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    def __init__(
        self,
        header: Callable[[int], str],
        draw: Callable[[Row, int], list[Segment]],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.rows: Sequence[Row] = []
        self._header = header
        self._draw = draw

    def show(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.rows_changed()

    @property
    def selected(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def row_count(self) -> int:
        return max(len(self.rows), 1)

    def render_header(self, width: int) -> list[Segment]:
        return [Segment(self._header(width), HEADER_STYLE)]

    def render_row(self, index: int, width: int) -> list[Segment]:
        if not self.rows:
            return [Segment(" Nothing matches.", MUTED)]
        return self._draw(self.rows[index], width)


class LogScreen(Screen[None], Generic[Row]):
    """A searchable log; subclasses give the filters, the query and the export."""

    DEFAULT_CSS = """
    LogScreen #log-title { height: 1; background: $panel; }
    LogScreen #filters { height: 1; margin: 1 0 0 0; }
    LogScreen #filters Input { width: 1fr; margin: 0 1 0 0; }
    LogScreen #filters Select { width: 22; margin: 0 1 0 0; }
    LogScreen #log-status { height: 1; color: $text-muted; }
    LogScreen #log-status.-error { color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("s", "save", "Save CSV"),
        Binding("f5", "refresh_rows", "Refresh"),
    ]

    TITLE_TEXT = ""
    FILE_NAME = ""

    def __init__(self, history: History | None, now: Callable[[], int], save_to: Path) -> None:
        super().__init__()
        self._history = history
        self._now = now
        self._save_to = save_to
        self.loaded = False  # the rows shown answer the filters as they are
        self.saved: Path | None = None
        self.error: str | None = None
        self.rows = RowList[Row](self.header_line, self.draw_row, id="rows")

    # --- for subclasses --------------------------------------------------------------------

    def filter_fields(self) -> ComposeResult:
        raise NotImplementedError

    async def fetch(self, history: History, now_us: int) -> list[Row]:
        """The rows for the filters as they are (ValueError: a field does not parse)."""
        raise NotImplementedError

    def writer(self, now_us: int) -> Write:
        raise NotImplementedError

    def header_line(self, width: int) -> str:
        raise NotImplementedError

    def draw_row(self, row: Row, width: int) -> list[Segment]:
        raise NotImplementedError

    # --- the screen ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(f" {self.TITLE_TEXT} ", id="log-title", markup=False)
        with Horizontal(id="filters"):
            yield from self.filter_fields()
        yield self.rows
        yield Static("loading…", id="log-status")
        yield Footer()

    def on_mount(self) -> None:
        self.rows.focus()
        self.action_refresh_rows()

    @on(Input.Changed)
    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.action_refresh_rows()

    @on(Input.Submitted)
    def _filter_done(self) -> None:
        self.rows.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_refresh_rows(self) -> None:
        self.loaded = False
        self.run_worker(self._query(), group="rows", exclusive=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.error = text if error else None
        status = self.query_one("#log-status", Static)
        status.set_class(error, "-error")
        status.update(text)

    async def _query(self) -> None:
        if self._history is None:
            self._say("no database configured: no history", error=True)
            return
        now = self._now()
        try:
            found = await self.fetch(self._history, now)
        except ValueError as error:
            self._say(str(error), error=True)
            return
        except ControlroomError as error:
            self._say(f"history unavailable: {error}", error=True)
            return
        self.rows.show(found)
        self.loaded = True
        more = f" (the newest {MAX_ROWS:,})" if len(found) >= MAX_ROWS else ""
        self._say(f"{len(found):,} rows from PostgreSQL{more} · s saves them as CSV")

    def action_save(self) -> None:
        self.run_worker(self._save(), group="save", exclusive=True)

    async def _save(self) -> None:
        if self._history is None:
            self._say("no database configured: nothing to save", error=True)
            return
        now = self._now()
        path = csv_path(self._save_to, now, self.FILE_NAME)
        try:
            rows = await save_csv(self._history, path, self.writer(now))
        except ValueError as error:
            self._say(str(error), error=True)
            return
        except (ControlroomError, OSError) as error:
            self._say(f"could not save: {error}", error=True)
            return
        self.saved = path
        self._say(f"saved {rows:,} rows to {path}")
