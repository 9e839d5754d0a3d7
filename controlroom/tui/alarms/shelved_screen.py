"""The shelved list (`S`): every alarm point shelved now, by whom, why, until when; `u`
unshelves the selected one. Read from the plant picture (the coordinators' holds, mirrored to
every viewer), so a shelving that ran out leaves the list by itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from controlroom.plant.alarms import Hold, HoldKind
from controlroom.plant.picture import PlantPicture
from controlroom.tui.history.log_screen import RowList, stamp
from controlroom.tui.line_list import fit
from controlroom.tui.states import MUTED

REDRAW_S = 1.0
SENSOR = 24
STAMP = 14


def shelved(picture: PlantPicture, now_us: int) -> list[Hold]:
    """The points shelved at `now_us`, the soonest to return first (one-shot ones last)."""
    found = [
        hold
        for hold in picture.holds.values()
        if hold.kind is HoldKind.SHELVED and hold.in_force(now_us)
    ]
    return sorted(found, key=lambda h: (h.until is None, h.until or 0, h.sensor, h.level))


def remaining(hold: Hold, now_us: int) -> str:
    if hold.until is None:
        return "until it clears"
    left = max(hold.until - now_us, 0) // 1_000_000
    hours, rest = divmod(left, 3600)
    return f"{hours}h{rest // 60:02d}m left" if hours else f"{rest // 60}m{rest % 60:02d}s left"


class ShelvedScreen(Screen[None]):
    """The shelved alarm points; escape goes back."""

    DEFAULT_CSS = """
    ShelvedScreen #shelved-title { height: 1; background: $panel; }
    ShelvedScreen #shelved-status { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("u", "unshelve", "Unshelve"),
    ]

    def __init__(
        self,
        picture: PlantPicture,
        now: Callable[[], int],
        unshelve: Callable[[Hold], None],
    ) -> None:
        super().__init__()
        self._picture = picture
        self._now = now
        self._unshelve = unshelve
        self.rows = RowList[Hold](self._header, self._draw, id="shelved")

    def compose(self) -> ComposeResult:
        yield Static(" Shelved alarms · u unshelves the selected one ", id="shelved-title")
        yield self.rows
        yield Static("", id="shelved-status")
        yield Footer()

    def on_mount(self) -> None:
        self.rows.focus()
        self._redraw()
        self.set_interval(REDRAW_S, self._redraw)

    def _redraw(self) -> None:
        held = shelved(self._picture, self._now())
        if list(self.rows.rows) != held:
            self.rows.show(held)
        else:
            self.rows.refresh()  # the time left
        self.query_one("#shelved-status", Static).update(
            f"{len(held)} shelved · a shelving returns the alarm by itself when its time is up"
        )

    def _header(self, width: int) -> str:
        columns = [" " + fit("SENSOR", SENSOR), fit("LEVEL", 6), fit("BY", 12)]
        columns += [fit("SINCE", STAMP), fit("RETURNS", 16), "REASON"]
        return " ".join(columns)

    def _draw(self, hold: Hold, width: int) -> list[Segment]:
        now = self._now()
        return [
            Segment(" " + fit(hold.sensor, SENSOR) + " ", Style(bold=True)),
            Segment(fit(hold.level.value, 6) + " " + fit(hold.by, 12) + " "),
            Segment(fit(stamp(hold.at), STAMP) + " ", MUTED),
            Segment(fit(remaining(hold, now), 16) + " "),
            Segment(hold.reason),
        ]

    def action_unshelve(self) -> None:
        hold = self.rows.selected
        if hold is None:
            self.notify("nothing shelved", severity="warning")
            return
        self._unshelve(hold)

    def action_back(self) -> None:
        self.dismiss(None)
