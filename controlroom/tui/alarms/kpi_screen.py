"""The alarm performance figures of ISA-18.2 on one screen: the alarm rate (a flood above 10
per operator in 10 minutes), chattering points, stale alarms, the most frequent of the last
24 hours. Read from PostgreSQL every few seconds (`controlroom.db.alarm_figures`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from controlroom.clock import us_to_datetime
from controlroom.db.alarm_figures import figures
from controlroom.db.history import History
from controlroom.errors import DatabaseUnavailable
from controlroom.plant.alarm_figures import (
    CHATTER_COUNT,
    FLOOD_ABOVE,
    AlarmFigures,
)
from controlroom.tui.alarms.alarm_panel import clock
from controlroom.tui.header.status_header import ALERT
from controlroom.tui.states import MUTED

REFRESH_S = 5.0


def section(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)


def describe(shown: AlarmFigures) -> RenderableType:
    """The screen's text: every figure, with its limit in words."""
    rate = Text()
    rate.append("Alarm rate  ", style="bold")
    rate.append(f"{shown.rate:g} per operator in the last 10 minutes")
    if shown.flood:
        rate.append("  ")
        rate.append(f" ! FLOOD (above {FLOOD_ABOVE}) ", style=ALERT)
    else:
        rate.append(f"  (a flood is above {FLOOD_ABOVE})", style=MUTED)
    parts: list[RenderableType] = [rate, Text()]

    chatter = section(f"Chattering ({CHATTER_COUNT}+ activations in a minute, last 24 h)")
    chatter.add_column("ALARM POINT")
    chatter.add_column("MOST IN A MINUTE", justify="right")
    chatter.add_column("LAST AT")
    chatter.add_column("NOW")
    now = {c.point for c in shown.chattering_now}
    for c in shown.chattering:
        chatter.add_row(
            c.point,
            str(c.most_in_a_minute),
            clock(c.at),
            Text("! CHATTERING", style="bold reverse") if c.point in now else "",
        )
    if not shown.chattering:
        chatter.add_row(Text("none", style=MUTED), "", "", "")
    parts += [chatter, Text()]

    stale = section("Stale (active for more than 24 h)")
    stale.add_column("ALARM POINT")
    stale.add_column("RAISED")
    stale.add_column("ACTIVE FOR", justify="right")
    for a in shown.stale:
        hours = (shown.now_us - a.raised_at) / 3_600_000_000
        stale.add_row(a.point, clock_day(a.raised_at), f"{hours:,.1f} h")
    if not shown.stale:
        stale.add_row(Text("none", style=MUTED), "", "")
    parts += [stale, Text()]

    frequent = section("Most frequent (last 24 h)")
    frequent.add_column("ALARM POINT")
    frequent.add_column("ALARMS", justify="right")
    for point, count in shown.frequent:
        frequent.add_row(point, str(count))
    if not shown.frequent:
        frequent.add_row(Text("none", style=MUTED), "")
    parts.append(frequent)
    return Group(*parts)


def clock_day(us: int) -> str:
    return us_to_datetime(us).astimezone().strftime("%Y-%m-%d %H:%M")


class KpiScreen(Screen[None]):
    """The figures, refreshed every REFRESH_S; escape goes back."""

    DEFAULT_CSS = """
    KpiScreen #kpi-title { height: 1; background: $panel; }
    KpiScreen #kpi-status { height: 1; color: $text-muted; }
    KpiScreen #kpi-status.-error { color: $error; text-style: bold; }
    KpiScreen VerticalScroll { padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "back", "Back")]

    def __init__(self, history: History | None, now: Callable[[], int]) -> None:
        super().__init__()
        self._history = history
        self._now = now
        self.shown: AlarmFigures | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(" Alarm performance (ISA-18.2) ", style="bold reverse"), id="kpi-title")
        with VerticalScroll():
            yield Static("loading the figures…", id="kpi-figures")
        yield Static("", id="kpi-status")
        yield Footer()

    def on_mount(self) -> None:
        self._load()
        self.set_interval(REFRESH_S, self._load)

    def _load(self) -> None:
        self.run_worker(self._query(), group="kpi", exclusive=True)

    async def _query(self) -> None:
        status = self.query_one("#kpi-status", Static)
        if self._history is None:
            self.error = "no database configured: no figures"
        else:
            now = self._now()
            try:
                self.shown = await self._history.run(lambda c: figures(c, now))
            except DatabaseUnavailable as error:
                self.error = f"figures unavailable: {error}"
            else:
                self.error = None
                self.query_one("#kpi-figures", Static).update(describe(self.shown))
                status.update(f"from PostgreSQL at {clock(now)}, every {REFRESH_S:g} s")
        status.set_class(self.error is not None, "-error")
        if self.error is not None:
            status.update(self.error)

    def action_back(self) -> None:
        self.dismiss(None)
