"""A scrolling list that draws its rows itself with Textual's Line API, under a fixed header.

One widget paints only the visible lines, from plain data, when asked; that is what keeps 200
live rows at 10 redraws a second cheap (a widget per row costs a core and still falls behind).
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip

HEADER_STYLE = Style(bold=True, underline=True)
PLAIN = Style()
CURSOR_STYLE = Style(bgcolor="#264f78")
CURSOR_BLURRED_STYLE = Style(bgcolor="#3a3a3a")


def fit(text: str, width: int, right: bool = False) -> str:
    """Text padded or cut (with an ellipsis) to exactly `width` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    padding = " " * (width - length)
    return padding + text if right else text + padding


class WholeCellScrollBar(ScrollBarRender):
    """A scrollbar whose thumb is whole cells. Textual's default ends the thumb in an eighth
    block (▁ to ▇) for smoothness; beside a column of sparklines that reads as a stray reading
    left on the screen (issue 10: "a block character to the right of ● NORMAL")."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)


class LineList(ScrollView, can_focus=True):
    """Rows with a cursor; subclasses say how many rows there are and how to draw one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.paints = 0  # full repaints, for the benchmark

    # --- for subclasses ----------------------------------------------------------------------

    def row_count(self) -> int:
        raise NotImplementedError

    def render_header(self, width: int) -> list[Segment]:
        raise NotImplementedError

    def render_row(self, index: int, width: int) -> list[Segment]:
        raise NotImplementedError

    # --- drawing -----------------------------------------------------------------------------

    def rows_changed(self) -> None:
        """Call when rows came or went: resizes the scroll area and keeps the cursor on a row."""
        count = self.row_count()
        self.virtual_size = Size(self.scrollable_content_region.width, count + 1)
        if self.cursor >= count:
            self.cursor = max(count - 1, 0)
        self.refresh()

    @property
    def visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            self.paints += 1
            return Strip(self.render_header(width)).adjust_cell_length(width, PLAIN)
        index = int(self.scroll_y) + y - 1
        if index >= self.row_count():
            return Strip.blank(width, PLAIN)
        # Every segment styled: Textual's monochrome filter (NO_COLOR) fails on a bare one.
        segments = [
            segment if segment.style is not None else Segment(segment.text, PLAIN)
            for segment in self.render_row(index, width)
        ]
        strip = Strip(segments).adjust_cell_length(width, PLAIN)
        if index == self.cursor:
            strip = strip.apply_style(CURSOR_STYLE if self.has_focus else CURSOR_BLURRED_STYLE)
        return strip

    def on_mount(self) -> None:
        # Textual documents this per-instance override; its stub declares a ClassVar.
        self.vertical_scrollbar.renderer = WholeCellScrollBar  # type: ignore[misc]

    # --- cursor ------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        self._keep_visible(new)
        if int(self.scroll_y) == top:  # no scroll: only the two rows change (line = row + 1)
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)

    def _keep_visible(self, index: int) -> None:
        top = int(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + self.visible_rows:
            self.scroll_to(y=index - self.visible_rows + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * self.visible_rows)

    def action_jump(self, index: int) -> None:
        self._move(index if index >= 0 else self.row_count() - 1)

    def _move(self, index: int) -> None:
        self.cursor = min(max(index, 0), max(self.row_count() - 1, 0))

    class Activated(Message):
        """A row was double-clicked: the mouse's `enter`."""

        def __init__(self, row_list: LineList, index: int) -> None:
            super().__init__()
            self.row_list = row_list
            self.index = index

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self._move(int(self.scroll_y) + offset.y - 1)
            if event.chain == 2:
                self.post_message(self.Activated(self, self.cursor))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.rows_changed()
