"""One sensor in depth: its history from PostgreSQL joined with live readings.

History is queried when the screen opens, when the window changes and every little while
after (down-sampled by the server); between queries the live readings the model keeps are
appended. If the database is gone, the chart says so and goes on with live data alone.
`s` writes the window shown to a CSV file in the working folder, from the source the chart
reads (raw readings or a rollup, controlroom.db.history.pick_resolution).

`+` lays another sensor over the chart (up to four in all, on the same time axis), `-` takes
the last one off, `m` switches between each on its own scale and all normalised to their safe
ranges (controlroom.tui.detail.history_chart).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, ClassVar

import asyncpg
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from controlroom.clock import now_us, us_to_datetime
from controlroom.db.export import export_csv, plan
from controlroom.db.history import Bucket, History, pick_resolution
from controlroom.errors import ControlroomError, DatabaseUnavailable
from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import format_number
from controlroom.tui.detail.history_chart import (
    MAX_SENSORS,
    WINDOWS,
    ChartData,
    HistoryChart,
    Scale,
    Series,
    Window,
)
from controlroom.tui.detail.overlay_picker import OverlayPicker
from controlroom.tui.model import PlantModel
from controlroom.tui.saving import csv_path, save_csv
from controlroom.tui.states import format_range, state_label, state_style

REDRAW_S = 1.0
MAX_POINTS = 400
REQUERY_S = 30.0


class DetailScreen(Screen[None]):
    """The chart of one sensor; escape goes back to the main screen."""

    DEFAULT_CSS = """
    DetailScreen #about { height: 1; background: $panel; }
    DetailScreen #history-status { height: 1; color: $text-muted; }
    DetailScreen #history-status.-error { color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        *(Binding(w.key, f"window({i})", w.label) for i, w in enumerate(WINDOWS)),
        Binding("s", "save", "Save CSV"),
        Binding("plus", "add_overlay", "Overlay"),
        Binding("minus", "remove_overlay", "Take off", show=False),  # the help screen has it
        Binding("m", "switch_scale", "Scale", show=False),
    ]

    def __init__(
        self,
        sensor: str,
        model: PlantModel,
        history: History | None,
        now: Callable[[], int] = now_us,
        save_to: Path | None = None,
    ) -> None:
        super().__init__()
        self._save_to = save_to or Path.cwd()
        self.saved: Path | None = None  # the last CSV file written
        self._now = now
        self.sensor = sensor
        self._model = model
        self._history = history
        self.window: Window = WINDOWS[0]
        self._buckets: list[Bucket] = []
        self._alarms: list[Alarm] = []
        self._queried_at = 0
        self.history_error: str | None = None
        self.history_loaded = False
        self.stored_readings = 0  # in the window, before down-sampling
        self.overlaid: list[str] = []  # sensors laid over this one, in the order added
        self.scale = Scale.OWN
        self._overlay_buckets: dict[str, list[Bucket]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="about")
        yield HistoryChart(id="chart")
        yield Static("loading history…", id="history-status")
        yield Footer()

    def on_mount(self) -> None:
        self._load_history()
        self.set_interval(REDRAW_S, self._redraw)
        self.set_interval(REQUERY_S, self._load_history)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_window(self, index: int) -> None:
        self.window = WINDOWS[index]
        self._buckets, self._alarms = [], []
        self._overlay_buckets = {}
        self._load_history()

    def action_add_overlay(self) -> None:
        if 1 + len(self.overlaid) >= MAX_SENSORS:
            self.notify(
                f"at most {MAX_SENSORS} sensors on one chart: - takes one off", severity="warning"
            )
            return
        shown = {self.sensor, *self.overlaid}
        others = [name for name in self._model.sensors if name not in shown]
        if not others:
            self.notify("no other sensor to lay over this one", severity="warning")
            return
        self.app.push_screen(OverlayPicker(others), self._overlay_chosen)

    def _overlay_chosen(self, name: str | None) -> None:
        if name is None or name in self.overlaid or name == self.sensor:
            return
        self.overlaid.append(name)
        self._load_history()

    def action_remove_overlay(self) -> None:
        if not self.overlaid:
            self.notify("no sensor laid over this one (+ adds one)", severity="warning")
            return
        self._overlay_buckets.pop(self.overlaid.pop(), None)
        self._redraw()

    def action_switch_scale(self) -> None:
        self.scale = Scale.NORMALISED if self.scale is Scale.OWN else Scale.OWN
        self._redraw()

    def action_save(self) -> None:
        self.run_worker(self._save(self.window), group="save", exclusive=True)

    async def _save(self, window: Window) -> None:
        """The window's stored data as CSV (the rows the chart is drawn from, not binned)."""
        status = self.query_one("#history-status", Static)
        if self._history is None:
            status.update("no database configured: nothing stored to save")
            return
        until = self._now()
        since = until - window.seconds * 1_000_000
        view = self._model.sensors.get(self.sensor)
        resolution = pick_resolution(
            timedelta(seconds=window.seconds), view.info.period_s if view else 1.0
        )

        async def write(connection: asyncpg.Connection, out: BinaryIO) -> int:
            job = await plan(
                connection, [self.sensor], us_to_datetime(since), us_to_datetime(until), resolution
            )
            return await export_csv(connection, job, out, lambda _: None)

        path = csv_path(
            self._save_to, until, self.sensor, window.label.replace(" ", ""), resolution.value
        )
        try:
            rows = await save_csv(self._history, path, write)
        except (ControlroomError, OSError) as error:
            status.set_class(True, "-error")
            status.update(f"could not save the window: {error}")
            return
        self.saved = path
        status.update(f"saved {window.label} ({resolution.value}, {rows:,} rows) to {path}")

    def _load_history(self) -> None:
        self.run_worker(self._query(self.window), group="history", exclusive=True)

    async def _query(self, window: Window) -> None:
        status = self.query_one("#history-status", Static)
        if self._history is None:
            self.history_error = "no database configured; live readings only"
        else:
            until = self._now()
            since = until - window.seconds * 1_000_000
            try:
                buckets = await self._history.window(self.sensor, since, until, MAX_POINTS)
                alarms = await self._history.alarms(self.sensor, since, until)
                overlays = {
                    name: await self._history.window(name, since, until, MAX_POINTS)
                    for name in list(self.overlaid)
                }
            except DatabaseUnavailable as error:
                self.history_error = f"history unavailable ({error}); showing live readings only"
            else:
                if window is self.window:
                    self._buckets, self._alarms, self._queried_at = buckets, alarms, until
                    self._overlay_buckets = overlays
                    self.history_error = None
                    self.history_loaded = True
                    stored = self.stored_readings = sum(b.count for b in buckets)
                    binned = " (down-sampled)" if any(b.count > 1 for b in buckets) else ""
                    status.update(
                        f"{window.label}: {stored:,} stored readings from PostgreSQL{binned}"
                        " + live · keys 1-7 change the window"
                    )
        status.set_class(self.history_error is not None, "-error")
        if self.history_error is not None:
            status.update(self.history_error)
        self._redraw()

    def chart_data(self) -> ChartData:
        view = self._model.sensors.get(self.sensor)
        now = self._now()
        window = self.window
        data = ChartData(
            title=self.sensor,
            unit=view.info.unit if view else "",
            window=window,
            now_us=now,
            safe_min=view.info.safe_min if view else None,
            safe_max=view.info.safe_max if view else None,
        )
        start = now - window.seconds * 1_000_000
        for bucket in self._buckets:
            if bucket.at_us >= start:
                data.times.append(bucket.at_us)
                data.means.append(bucket.mean)
                data.lows.append(bucket.low)
                data.highs.append(bucket.high)
        last = data.times[-1] if data.times else start
        if self._buckets:
            last = max(last, self._queried_at)
        if view is not None:
            for taken_on, value in view.points_since(last + 1):
                data.times.append(taken_on)
                data.means.append(value)
                data.lows.append(value)
                data.highs.append(value)
        alarms = {a.id: a for a in self._alarms}
        alarms.update((a.id, a) for a in self._model.alarms.values() if a.sensor == self.sensor)
        data.alarms = list(alarms.values())
        data.overlays = [self._series(name, start) for name in self.overlaid]
        data.scale = self.scale
        return data

    def _series(self, name: str, start: int) -> Series:
        """A sensor laid over this one: its stored means in the window, then live readings."""
        view = self._model.sensors.get(name)
        series = Series(name, view.info.unit if view else "")
        if view is not None:
            series.safe_min, series.safe_max = view.info.safe_min, view.info.safe_max
        buckets = [b for b in self._overlay_buckets.get(name, []) if b.at_us >= start]
        series.times = [b.at_us for b in buckets]
        series.values = [b.mean for b in buckets]
        last = series.times[-1] if series.times else start
        if buckets:
            last = max(last, self._queried_at)
        if view is not None:
            for taken_on, value in view.points_since(last + 1):
                series.times.append(taken_on)
                series.values.append(value)
        return series

    def _redraw(self) -> None:
        view = self._model.sensors.get(self.sensor)
        about = Text(no_wrap=True, overflow="ellipsis")
        about.append(f" {self.sensor} ", style="bold reverse")
        if view is not None:  # most important first: narrow terminals cut the end
            info = view.info
            about.append(" ")
            alarm = self._model.alarm_of_sensors().get(self.sensor)
            about.append(state_label(view.state), style=state_style(view.state, alarm))
            about.append(f"  {format_number(view.value)} {info.unit}")
            about.append(f"  safe {format_range(info.safe_min, info.safe_max)}")
            about.append(f"  serial {info.serial_no or '—'}")
        about.append(f"  window {self.window.label}")
        if self.overlaid:
            about.append(f"  +{len(self.overlaid)} laid over · {self.scale.value}")
        self.query_one("#about", Static).update(about)
        self.query_one(HistoryChart).draw(self.chart_data())
