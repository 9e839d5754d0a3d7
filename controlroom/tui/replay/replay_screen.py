"""The replay screen: the control room as it was at a moment, played forward or stepped.

It draws what the main screen draws (the sensor table with sparklines and states, the alarm
panel) from a model of its own that a `ReplayPlayer` feeds from the stored history, under a
banner that says REPLAY, where and how fast. It is pushed over the main screen, which goes on
following the live plant underneath; every key that acts on the plant (acknowledge, stop,
start a sensor) belongs to the main screen alone, so none of them works from here. `l` (or
escape) goes back to live.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from controlroom.clock import us_to_datetime
from controlroom.db.history import History
from controlroom.errors import DatabaseUnavailable
from controlroom.tui.alarms.alarm_panel import AlarmPanel
from controlroom.tui.replay.player import ReplayPlayer
from controlroom.tui.sensors.sensor_table import SensorTable

log = logging.getLogger(__name__)

TICK_S = 0.1  # the replay moves and redraws ten times a second, as the live view
STEP_S = 10.0  # `.` moves on by this much history


class ReplayBanner(Static):
    DEFAULT_CSS = """
    ReplayBanner { height: 1; background: $warning; color: $background; text-style: bold; }
    """


class ReplayScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play_pause", "Play/pause"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("full_stop", "step", f"Step {STEP_S:g}s"),
        Binding("l,escape", "live", "Live"),
    ]

    def __init__(self, history: History, start_us: int, end_us: int, speed: int = 1) -> None:
        super().__init__()
        self.player = ReplayPlayer(history, start_us, end_us, speed)
        self.banner = ReplayBanner(id="replay-banner")
        self.table = SensorTable(id="replay-sensors")
        self.alarm_panel = AlarmPanel(id="replay-alarms")
        self.ready = False  # the start moment is on screen
        self._last_tick = time.monotonic()

    def compose(self) -> ComposeResult:
        yield self.banner
        yield self.table
        yield self.alarm_panel

    def on_mount(self) -> None:
        self._show_banner("loading")
        self.table.focus()
        self.run_worker(self._play(), name="replay", group="replay", exclusive=True)

    async def _play(self) -> None:
        try:
            await self.player.start()
        except DatabaseUnavailable as error:
            self.notify(f"cannot replay: {error}", severity="error")
            self.dismiss()
            return
        self.ready = True
        self._redraw()
        self.set_interval(TICK_S, self._tick)

    async def _tick(self) -> None:
        now = time.monotonic()
        real_s, self._last_tick = now - self._last_tick, now
        try:
            await self.player.advance(real_s)
        except DatabaseUnavailable as error:
            self.player.clock.playing = False
            self.notify(f"replay paused: {error}", severity="warning")
        self._redraw()

    def _redraw(self) -> None:
        model = self.player.model
        sensors, values, alarms = model.take_changes()
        if sensors:
            self.table.show(model.ordered())
        elif values:
            self.table.refresh()
        if alarms:
            self.alarm_panel.show(model.alarm_list())
            self.table.alarms = model.alarm_of_sensors()
            self.table.refresh()
        self._show_banner()

    def _show_banner(self, note: str | None = None) -> None:
        clock = self.player.clock
        at = us_to_datetime(clock.position_us).astimezone()
        state = note or ("at the end" if clock.at_end else "playing" if clock.playing else "paused")
        self.banner.update(
            f" REPLAY  {_moment(at)}  {state}  {clock.speed}x   "
            f"space play/pause · +/- speed · . step {STEP_S:g} s · l live"
        )

    # --- keys ----------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        self.player.clock.toggle()
        self._last_tick = time.monotonic()
        self._show_banner()

    def action_faster(self) -> None:
        self.player.clock.faster()
        self._show_banner()

    def action_slower(self) -> None:
        self.player.clock.slower()
        self._show_banner()

    async def action_step(self) -> None:
        if not self.ready:
            return
        try:
            await self.player.step(STEP_S)
        except DatabaseUnavailable as error:
            self.notify(f"cannot step: {error}", severity="warning")
        self._redraw()

    def action_live(self) -> None:
        self.dismiss()

    @on(SensorTable.Activated)
    def _no_detail(self, event: SensorTable.Activated) -> None:
        event.stop()  # the detail screen is the live plant's


def _moment(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z")
