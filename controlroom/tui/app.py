"""The control room: the Textual app that ties the model, the live feed and history together.

Events from the broker (the shared viewer feed) go straight into the model; a 10 Hz timer
moves whatever changed onto the screen in one batch (a redraw). That coalescing is the whole
rendering strategy: however fast data comes, the screen is redrawn at most ten times a second.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

import orjson
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input

from controlroom.broker.feed import BrokerState, ViewerFeed
from controlroom.commandline import EXIT_INTERRUPTED
from controlroom.config import Settings
from controlroom.db.alarm_figures import figures
from controlroom.db.alarm_limits import alarm_limits
from controlroom.db.history import History
from controlroom.errors import ActionRefused, ConfigError, DatabaseUnavailable, NotConnected
from controlroom.plant.alarm_limits import LEVELS, Level, default_limits
from controlroom.plant.alarm_states import state_of
from controlroom.plant.alarms import Alarm, Hold, HoldKind
from controlroom.plant.sensors import Liveness
from controlroom.processes import ProcessGroup
from controlroom.simulation.sensor import SimulatedSensor
from controlroom.tui.alarms.alarm_panel import AlarmPanel
from controlroom.tui.alarms.bell import BELL_REPEAT_S, Bell
from controlroom.tui.alarms.kpi_screen import KpiScreen
from controlroom.tui.alarms.shelved_screen import ShelvedScreen
from controlroom.tui.detail.detail_screen import DetailScreen
from controlroom.tui.dialogs.choice import ChoiceDialog
from controlroom.tui.dialogs.help import HelpScreen
from controlroom.tui.dialogs.shelve import ShelveChoice, ShelveDialog
from controlroom.tui.dialogs.text_dialog import TextDialog
from controlroom.tui.footer.plant_footer import PlantFooter
from controlroom.tui.header.status_header import StatusHeader
from controlroom.tui.history.action_log import ActionLogScreen
from controlroom.tui.history.alarm_history import AlarmHistoryScreen
from controlroom.tui.limits.limits_form import LimitsForm
from controlroom.tui.messages import (
    AckRequested,
    BrokerChanged,
    ChildExited,
    DatabaseChanged,
    HistoryLoaded,
    ScenarioStarted,
    SensorSpawned,
    StopRequested,
)
from controlroom.tui.model import PlantModel, SensorView
from controlroom.tui.replay.replay_prompt import ReplayPrompt
from controlroom.tui.replay.replay_screen import ReplayScreen
from controlroom.tui.sensors.sensor_table import SensorTable
from controlroom.tui.spawn.spawn_form import ScenarioChoice, SpawnForm
from controlroom.wire.codec import Message

log = logging.getLogger(__name__)


def describe_alarm(alarm: Alarm) -> str:
    """`H alarm on boiler_temp_out`: how a notice or a dialog names an alarm."""
    return f"{alarm.alarm_level.value} alarm on {alarm.sensor}"


REDRAW_S = 0.1  # at most 10 redraws a second
HEADER_S = 1.0
DATABASE_CHECK_S = 5.0
FIGURES_S = 5.0  # the header's alarm figures (flood, chattering), from PostgreSQL
RECENT_PER_SENSOR = 120
RECENT_SINCE_S = 15 * 60
HANG_UP_GRACE_S = 10.0
HEARD_WITHIN_S = 30  # a sensor read this recently is running (the spawn form's scenario check)
SCENARIO_LABEL = "scenario-"  # a child playing a scenario: its label, then the name
FROZEN_POINTS = 200  # a paused row keeps what a sparkline can show, not the whole buffer
MAIN_SCREEN_ACTIONS = frozenset(
    {
        "spawn",
        "stop",
        "detail",
        "ack",
        "pause",
        "filter",
        "help",
        "quit_room",
        "silence",
        "kpi",
        "replay",
        "alarm_history",
        "action_log",
        "ack_comment",
        "ack_all",
        "comment",
        "shelve",
        "unshelve",
        "shelved",
        "edit_limits",
    }
)


class ControlRoom(App[None]):
    """`live=False` leaves broker and database alone (snapshot tests feed the model by hand)."""

    TITLE = "controlroom"
    CSS = """
    Screen { layout: vertical; }
    #filter { display: none; height: 1; border: none; }
    #filter.-shown { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "spawn", "New"),
        Binding("x", "stop", "Stop"),
        Binding("enter", "detail", "Detail"),
        Binding("a", "ack", "Ack"),
        Binding("A", "ack_comment", "Ack with comment", show=False),
        Binding("ctrl+a", "ack_all", "Ack all shown", show=False),
        Binding("c", "comment", "Comment", show=False),
        Binding("s", "shelve", "Shelve"),
        Binding("u", "unshelve", "Unshelve", show=False),
        Binding("S", "shelved", "Shelved", show=False),
        Binding("e", "edit_limits", "Limits", show=False),
        Binding("b", "silence", "Silence"),
        Binding("h", "alarm_history", "History"),
        Binding("l", "action_log", "Log", show=False),
        Binding("k", "kpi", "KPI"),
        Binding("p", "pause", "Pause", show=False),
        Binding("slash", "filter", "Filter", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("r", "replay", "Replay"),
        Binding("q", "quit_room", "Quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        operator: str | None = None,
        log_dir: Path | None = None,
        live: bool = True,
        clock: Callable[[], datetime] | None = None,
        stats_path: Path | None = None,
        handle_signals: bool = False,
        browser_url: str | None = None,
        bell: bool = True,
        replay_at: int | None = None,
        replay_speed: int = 1,
        sources_as: Callable[[str | None], Settings] | None = None,
    ) -> None:
        """stats_path: append a JSON line of rendering counters every second (bench/tui.py).
        handle_signals: on SIGHUP or SIGTERM (terminal closed, process stopped), stop the
        sensors this session started and leave, as quitting with "stop them" would.
        bell: ring the terminal bell for high and critical alarms (`--no-bell`).
        replay_at: open the replay of that moment (microseconds) at once (`--replay`), at
        `replay_speed` times real time.
        sources_as: the settings a sensor this session starts runs with, by its name (None for
        a scenario's runner, which starts several): under roles, not the operator's own login
        (an operator may not publish readings) but the source's (`controlroom up`)."""
        super().__init__()
        self.settings = settings
        self.operator = operator or getpass.getuser()
        self.model = PlantModel()
        self.children_processes = ProcessGroup(settings, log_dir or Path.cwd() / "logs")
        self._sources_as = sources_as or (lambda source: settings)
        self.live = live
        self._clock = clock or (lambda: datetime.now().astimezone())
        self.history: History | None = History(settings.for_history()) if live else None
        self.export_dir = Path.cwd()  # where `s` writes CSV files (detail, history, log)
        self.feed = ViewerFeed(settings, "viewer", self._on_event, self._broker_state)
        self._twin_pairs: set[tuple[str, ...]] = set()  # the twin runs told of in a notice
        # Held, not queried: timers may fire while the screen is being taken down.
        self.header = StatusHeader(id="header")
        self.table = SensorTable(id="sensors")
        self.alarm_panel = AlarmPanel(id="alarms")
        self.alarm_bell = Bell(bell)
        self.rings = 0  # bells rung, for tests
        self.paused = False
        self.filter_text = ""
        self.redraws = 0
        self._stats_path = stats_path
        self._handle_signals = handle_signals
        self.browser_url = browser_url
        self._replay_at = replay_at  # `--replay`: open the replay of that moment at once
        self.replay_speed = replay_speed

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.table
        yield self.alarm_panel
        yield Input(placeholder="filter sensors by name (escape clears)", id="filter")
        yield PlantFooter(self.browser_url)

    def on_mount(self) -> None:
        self.header.plant = self.settings.plant
        self.table.focus()
        self._redraw()
        self._update_header()
        self.set_interval(REDRAW_S, self._redraw)
        self.set_interval(HEADER_S, self._update_header)
        self.set_interval(HEADER_S, self._watch_children)
        self.set_interval(BELL_REPEAT_S, self._repeat_bell)
        self._show_bell()
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(signum, self._hang_up, signum)
        if self.live:
            self.run_worker(self.feed.run(), name="feed", group="feed")
            self.run_worker(self._load_history(), name="history", group="history")
            self.run_worker(self._watch_database(), name="database", group="database")
            self.set_interval(FIGURES_S, self._load_figures)
            self._load_figures()
            if self._replay_at is not None:
                self.start_replay(self._replay_at)

    async def on_unmount(self) -> None:
        if self.history is not None:
            await self.history.close()

    # --- the 10 Hz redraw --------------------------------------------------------------------

    def _redraw(self) -> None:
        """Move what changed since the last frame onto the screen, in one batch."""
        sensors, values, alarms = self.model.take_changes()
        with self.batch_update():
            if not self.paused:
                if sensors:
                    self.table.show(self._filtered(self.model.ordered()))
                elif values:
                    self.table.refresh()
                if sensors or values:
                    self.redraws += 1
            if alarms:  # alarms stay live while the view is paused: they must not be missed
                listed = self.model.alarm_list()
                self.alarm_panel.show(listed)
                self.table.alarms = self.model.alarm_of_sensors()
                self.table.refresh()
                if self.alarm_bell.update(listed, self.now_us()):
                    self._ring()
                self._show_bell()

    def _ring(self) -> None:
        self.rings += 1
        self.bell()

    def _repeat_bell(self) -> None:
        if self.alarm_bell.ringing:
            self._ring()

    def _show_bell(self) -> None:
        bell = self.alarm_bell
        self.header.bell = "off" if not bell.enabled else "ringing" if bell.calling else "on"

    def action_silence(self) -> None:
        silenced = self.alarm_bell.silence()
        self._show_bell()
        if silenced:
            self.notify(f"bell silenced for {silenced} alarm(s); a new one rings again")
        elif not self.alarm_bell.enabled:
            self.notify("the bell is off (--no-bell or CONTROLROOM_BELL=off)")

    def _filtered(self, rows: Iterable[SensorView]) -> list[SensorView]:
        needle = self.filter_text.casefold()
        return [row for row in rows if needle in row.name.casefold()]

    def now_us(self) -> int:
        return int(self._clock().timestamp() * 1_000_000)

    def _update_header(self) -> None:
        header = self.header
        header.now = self._clock()
        header.rate = self.model.readings.rate()
        header.scenario = ", ".join(self.running_scenarios())
        if self._stats_path is not None:
            self._write_stats(self._stats_path)

    def _write_stats(self, path: Path) -> None:
        line = orjson.dumps(
            {
                "t": time.monotonic(),
                "redraws": self.redraws,
                "paints": self.table.paints,
                "readings": self.model.readings.total,
                "messages": self.model.messages,
                "sensors": len(self.model.sensors),
            }
        )
        with path.open("ab") as stats:
            stats.write(line + b"\n")

    # --- live feed, history, database --------------------------------------------------------

    def _on_event(self, message: Message) -> None:
        changes = self.model.apply(message)
        if changes.unknown:  # a sensor not yet described: ask about it
            self.feed.request_snapshot()
        if changes.warnings:
            self.header.twins = len(self.model.picture.warnings)
            for warning in changes.warnings:  # one notice per pair of runs, however many
                pair = (*warning.sources, *warning.runs)  # sensors they share (the header counts)
                if pair not in self._twin_pairs:
                    self._twin_pairs.add(pair)
                    self.notify(
                        warning.describe(), title="Twin sensor", severity="warning", timeout=15
                    )

    def _broker_state(self, state: BrokerState) -> None:
        self.post_message(BrokerChanged(state.connected, state.detail))

    @on(BrokerChanged)
    def _show_broker(self, event: BrokerChanged) -> None:
        was = self.header.broker
        self.header.broker = event.connected
        if was is event.connected:
            return  # retries repeat the state; the header shows it, one toast says it
        if not event.connected:
            self.notify(event.detail or "broker unreachable", title="Broker", severity="error")
        elif was is False:
            self.notify("broker connection restored", title="Broker")

    async def _load_history(self) -> None:
        """Known sensors, recent readings and open alarms, so nothing starts empty."""
        assert self.history is not None
        while True:
            try:
                sensors = await self.history.sensors()
                recent = await self.history.recent(
                    RECENT_PER_SENSOR, self.now_us() - RECENT_SINCE_S * 1_000_000
                )
                alarms = await self.history.open_alarms()
            except DatabaseUnavailable:
                self.post_message(DatabaseChanged(False, self.history.error or ""))
                await asyncio.sleep(DATABASE_CHECK_S)
                continue
            self.model.load_sensors(sensors)
            self.model.load_recent(recent)
            self.model.load_alarms(alarms)
            self.model.sensors_changed = True
            self.post_message(DatabaseChanged(True))
            self.post_message(
                HistoryLoaded(len(sensors), sum(len(p) for p in recent.values()), len(alarms))
            )
            return

    async def _watch_database(self) -> None:
        assert self.history is not None
        while True:
            available = await self.history.check()
            self.post_message(DatabaseChanged(available, self.history.error or ""))
            await asyncio.sleep(DATABASE_CHECK_S)

    def _load_figures(self) -> None:
        self.run_worker(self._query_figures(), group="figures", exclusive=True)

    async def _query_figures(self) -> None:
        """Flood and chattering for the header; nothing shown while the database is away."""
        assert self.history is not None
        now = self.now_us()
        try:
            self.header.figures = await self.history.run(lambda c: figures(c, now))
        except DatabaseUnavailable:
            self.header.figures = None

    @on(DatabaseChanged)
    def _show_database(self, event: DatabaseChanged) -> None:
        if self.header.database is not event.available and not event.available:
            self.notify(
                event.detail or "database unreachable",
                title="Database",
                severity="warning",
                timeout=8,
            )
        self.header.database = event.available

    # --- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The main screen's keys belong to the main screen: hidden under a dialog or detail."""
        return action not in MAIN_SCREEN_ACTIONS or len(self.screen_stack) == 1

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Sensor detail", "History and live chart", self.action_detail)
        yield SystemCommand("Start a sensor", "Open the spawn form", self.action_spawn)
        yield SystemCommand("Stop the selected sensor", "Remote stop", self.action_stop)
        for name in self.running_scenarios():
            yield SystemCommand(
                f"Stop scenario {name}", "Its sensors leave now", partial(self.stop_scenario, name)
            )
        yield SystemCommand("Acknowledge alarm", "The selected alarm", self.action_ack)
        yield SystemCommand(
            "Acknowledge with a comment", "The selected alarm", self.action_ack_comment
        )
        yield SystemCommand("Acknowledge all shown", "Asks first", self.action_ack_all)
        yield SystemCommand("Comment on the alarm", "The selected alarm", self.action_comment)
        yield SystemCommand(
            "Shelve the alarm", "For a time, or until it clears", self.action_shelve
        )
        yield SystemCommand("Unshelve the alarm", "The selected alarm", self.action_unshelve)
        yield SystemCommand("Shelved alarms", "The shelved list", self.action_shelved)
        yield SystemCommand("Edit alarm limits", "The selected sensor's", self.action_edit_limits)
        yield SystemCommand("Silence the bell", "Until a new alarm", self.action_silence)
        yield SystemCommand("Pause / resume", "Freeze the live view", self.action_pause)
        yield SystemCommand("Filter sensors", "By name", self.action_filter)
        yield SystemCommand("Alarm history", "Search stored alarms", self.action_alarm_history)
        yield SystemCommand("Action log", "Who did what, when", self.action_action_log)
        yield SystemCommand("Alarm performance", "ISA-18.2 figures (KPI)", self.action_kpi)
        yield SystemCommand("Replay", "The plant as it was at a moment", self.action_replay)
        yield SystemCommand("Control room help", "Every key", self.action_help)

    def action_alarm_history(self) -> None:
        self.push_screen(AlarmHistoryScreen(self.history, self.now_us, self.export_dir))

    def action_action_log(self) -> None:
        self.push_screen(ActionLogScreen(self.history, self.now_us, self.export_dir))

    def action_kpi(self) -> None:
        self.push_screen(KpiScreen(self.history, self.now_us))

    def action_replay(self) -> None:
        if self.history is None:
            self.notify("no history to replay (the database is not used)", severity="warning")
            return
        self.push_screen(ReplayPrompt(self.now_us), self._replay_chosen)

    def _replay_chosen(self, moment: int | None) -> None:
        if moment is not None:
            self.start_replay(moment)

    def start_replay(self, moment: int) -> None:
        """The control room as it was at `moment`, over the live one until `l`."""
        if self.history is not None:
            self.push_screen(ReplayScreen(self.history, moment, self.now_us(), self.replay_speed))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.header.paused = self.paused
        if self.paused:
            # The screen shows the last frame already: only the header changes, so the key's
            # effect is on screen at once, without waiting for a full table redraw.
            self.table.freeze([row.frozen(FROZEN_POINTS) for row in self.table.rows])
        else:
            self.model.sensors_changed = True
            self._redraw()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("-shown")
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        rows = self._filtered(self.model.ordered())
        self.table.show([row.frozen(FROZEN_POINTS) for row in rows] if self.paused else rows)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        field = self.query_one("#filter", Input)
        if not field.value:
            field.remove_class("-shown")
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        field = self.query_one("#filter", Input)
        if event.key == "escape" and field.has_focus:
            field.value = ""
            field.remove_class("-shown")
            self.table.focus()

    @on(SensorTable.Activated)
    def _row_double_clicked(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        row = self.table.selected
        if row is None:
            self.notify("no sensor selected", severity="warning")
            return
        self.push_screen(
            DetailScreen(row.name, self.model, self.history, self.now_us, self.export_dir)
        )

    def action_spawn(self) -> None:
        # A name in use by a sensor that is still there is taken; an offline one may return.
        live = {
            name
            for name, view in self.model.sensors.items()
            if view.liveness is not Liveness.OFFLINE
        }
        # A scenario is refused beside a sensor of its that is reading now (a name known only
        # from history is free); one that is not would be refused by the broker, in one line.
        since = self.now_us() - HEARD_WITHIN_S * 1_000_000
        heard = {name for name in live if (self.model.sensors[name].taken_on or 0) > since}
        self.push_screen(SpawnForm(taken=live, reading=heard), self._spawn)

    def _spawn(self, chosen: SimulatedSensor | ScenarioChoice | None) -> None:
        if chosen is None:
            return
        if isinstance(chosen, ScenarioChoice):
            self._play(chosen)
            return
        name = chosen.info.name
        child = self.children_processes.start(
            f"sensor-{name}", chosen.argv(), self._sources_as(name)
        )
        self.notify(f"started sensor {name} (pid {child.pid}); log {child.log_path}")
        self.post_message(SensorSpawned(name, child.pid, str(child.log_path)))

    def _play(self, chosen: ScenarioChoice) -> None:
        """A scenario's runner as this session's child: it starts, faults and stops the
        scenario's sensors, and stops them when it is stopped (quitting asks)."""
        scenario = chosen.scenario
        group = self.children_processes
        child = group.start(
            f"{SCENARIO_LABEL}{scenario.name}",
            scenario.run_argv(chosen.speed, group.log_dir),
            self._sources_as(None),
        )
        self.notify(f"playing scenario {scenario.name} (pid {child.pid}); log {child.log_path}")
        self.post_message(ScenarioStarted(scenario.name, child.pid, str(child.log_path)))
        self._update_header()

    def stop_scenario(self, name: str) -> None:
        """Stop a scenario this session plays: its runner stops its sensors (a goodbye each)."""
        for child in self.children_processes.running():
            if child.label == f"{SCENARIO_LABEL}{name}":
                self.notify(f"stopping scenario {name}…")
                self.run_worker(child.stopped(), group="actions")

    def running_scenarios(self) -> list[str]:
        """The scenarios this session is playing."""
        return [
            child.label.removeprefix(SCENARIO_LABEL)
            for child in self.children_processes.running()
            if child.label.startswith(SCENARIO_LABEL)
        ]

    def action_stop(self) -> None:
        row = self.table.selected
        if row is None:
            self.notify("no sensor selected", severity="warning")
            return
        name = row.name

        def answered(answer: str | None) -> None:
            if answer == "stop":
                self.run_worker(self._stop(name), group="actions")

        self.push_screen(
            ChoiceDialog(
                f"Stop sensor {name}? It leaves the plant wherever it runs.",
                [("y", "Stop it", "stop"), ("n", "Keep it", "keep")],
            ),
            answered,
        )

    async def _stop(self, name: str) -> None:
        try:
            await self.feed.stop_sensor(name, self.operator)
        except (NotConnected, ActionRefused) as error:
            self.notify(f"cannot stop {name}: {error}", severity="error")
            return
        self.notify(f"asked {name} to stop")
        self.post_message(StopRequested(name, self.operator))

    def selected_alarm(self) -> Alarm | None:
        """The alarm panel's selection when it has focus, else the selected sensor's alarm."""
        if self.alarm_panel.has_focus:
            return self.alarm_panel.selected
        row = self.table.selected
        return self.model.alarm_for(row.name) if row is not None else None

    def action_ack(self) -> None:
        alarm = self.selected_alarm()
        if alarm is None:
            self.notify("no alarm to acknowledge here (tab to the alarm panel)", severity="warning")
            return
        if alarm.acked_at is not None:
            self.notify(f"already acknowledged by {alarm.acked_by or 'someone'}")
            return
        self.run_worker(self._ack(alarm), group="actions")

    async def _ack(self, alarm: Alarm, comment: str = "") -> None:
        try:
            await self.feed.acknowledge(alarm.id, self.operator, comment)
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot acknowledge: {error}", severity="error")
            return
        self.notify(f"acknowledged the {describe_alarm(alarm)}")
        self.post_message(AckRequested(alarm.id, alarm.sensor, self.operator))

    # --- alarm management: comments, acknowledging all, shelving, limits -------------------

    def _target(self, doing: str) -> Alarm | None:
        """The alarm an action is for: the panel's selection, else the selected sensor's
        (waiting for acknowledgement first, else active); None after saying why."""
        alarm = self.selected_alarm()
        if alarm is None and not self.alarm_panel.has_focus and self.table.selected is not None:
            alarm = self.model.alarm_of_sensors().get(self.table.selected.name)
        if alarm is None:
            self.notify(f"no alarm to {doing} here (tab to the alarm panel)", severity="warning")
        return alarm

    def action_ack_comment(self) -> None:
        alarm = self._target("acknowledge")
        if alarm is None:
            return
        if not state_of(alarm, self.now_us()).needs_ack:
            self.notify(f"already acknowledged by {alarm.acked_by or 'someone'}")
            return

        def answered(comment: str | None) -> None:
            if comment is not None:
                self.run_worker(self._ack(alarm, comment), group="actions")

        self.push_screen(
            TextDialog(
                f"Acknowledge the {describe_alarm(alarm)}, with a comment (optional):",
                "Acknowledge",
                required=False,
                placeholder="what you saw or did",
            ),
            answered,
        )

    def action_comment(self) -> None:
        alarm = self._target("comment on")
        if alarm is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self.run_worker(self._comment(alarm, text), group="actions")

        self.push_screen(
            TextDialog(
                f"Comment on the {describe_alarm(alarm)}:",
                "Comment",
                required=True,
                placeholder="kept with the alarm, for every operator",
            ),
            answered,
        )

    async def _comment(self, alarm: Alarm, text: str) -> None:
        try:
            await self.feed.comment(alarm.id, self.operator, text)
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot comment: {error}", severity="error")
            return
        self.notify(f"commented on the {describe_alarm(alarm)}")

    def shown_unacked(self) -> list[Alarm]:
        """The alarms on screen waiting for acknowledgement (the panel, narrowed by the
        sensor filter when one is set)."""
        now = self.now_us()
        needle = self.filter_text.casefold()
        return [
            alarm
            for alarm in self.alarm_panel.alarms
            if state_of(alarm, now).needs_ack and needle in alarm.sensor.casefold()
        ]

    def action_ack_all(self) -> None:
        alarms = self.shown_unacked()
        if not alarms:
            self.notify("no alarm shown waits for an acknowledgement")
            return
        sensors = sorted({alarm.sensor for alarm in alarms})
        named = ", ".join(sensors[:5]) + (
            f" and {len(sensors) - 5} more" if len(sensors) > 5 else ""
        )

        def answered(answer: str | None) -> None:
            if answer == "ack":
                self.run_worker(self._ack_all(alarms), group="actions")

        self.push_screen(
            ChoiceDialog(
                f"Acknowledge all {len(alarms)} alarm(s) shown that wait for it ({named})?",
                [("y", "Acknowledge all", "ack"), ("n", "Cancel", "cancel")],
            ),
            answered,
        )

    async def _ack_all(self, alarms: list[Alarm]) -> None:
        try:
            sent = await self.feed.acknowledge_all([a.id for a in alarms], self.operator)
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot acknowledge: {error}", severity="error")
            return
        self.notify(f"acknowledged {sent} alarm(s)")

    def action_shelve(self) -> None:
        alarm = self._target("shelve")
        if alarm is None:
            return

        def answered(choice: ShelveChoice | None) -> None:
            if choice is not None:
                self.run_worker(self._shelve(alarm, choice), group="actions")

        self.push_screen(
            ShelveDialog(f"the {describe_alarm(alarm)}", self.settings.max_shelve_s), answered
        )

    async def _shelve(self, alarm: Alarm, choice: ShelveChoice) -> None:
        level = alarm.alarm_level
        try:
            await self.feed.shelve(alarm.sensor, level, self.operator, choice.reason, choice.for_s)
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot shelve: {error}", severity="error")
            return
        until = "until it clears" if choice.for_s is None else f"for {choice.for_s / 60:g} min"
        self.notify(f"shelved the {describe_alarm(alarm)} {until}")

    def action_unshelve(self) -> None:
        alarm = self._target("unshelve")
        if alarm is None:
            return
        hold = self.model.picture.holds.get(alarm.point)
        if hold is None or hold.kind is not HoldKind.SHELVED or not hold.in_force(self.now_us()):
            self.notify(f"the {describe_alarm(alarm)} is not shelved", severity="warning")
            return
        self.unshelve(hold)

    def unshelve(self, hold: Hold) -> None:
        self.run_worker(self._unshelve(hold), group="actions")

    async def _unshelve(self, hold: Hold) -> None:
        try:
            await self.feed.release(hold.sensor, hold.level, self.operator, "unshelved")
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot unshelve: {error}", severity="error")
            return
        self.notify(f"unshelved the {hold.level.value} alarm of {hold.sensor}")

    def action_shelved(self) -> None:
        self.push_screen(ShelvedScreen(self.model.picture, self.now_us, self.unshelve))

    def action_edit_limits(self) -> None:
        row = self.table.selected
        if self.alarm_panel.has_focus and self.alarm_panel.selected is not None:
            name = self.alarm_panel.selected.sensor
        elif row is not None:
            name = row.name
        else:
            self.notify("no sensor selected", severity="warning")
            return
        self.run_worker(self._edit_limits(name), group="limits", exclusive=True)

    async def _edit_limits(self, sensor: str) -> None:
        """The form, filled with the sensor's definitions as stored (or, none stored, its safe
        range's), then the change through the feed."""
        view = self.model.sensors.get(sensor)
        info = view.info if view is not None else None
        limits = None
        changed = self.model.picture.limits.get(sensor)  # heard live: newer than the database
        if changed is not None:
            limits = changed.limits
        elif self.history is not None:
            try:
                stored = await self.history.run(alarm_limits)
            except (DatabaseUnavailable, ConfigError) as error:
                self.notify(f"stored limits unavailable: {error}", severity="warning")
            else:
                limits = stored.get(sensor)
        if limits is None:
            low, high = (info.safe_min, info.safe_max) if info is not None else (None, None)
            limits = default_limits(sensor, low, high)
        form = LimitsForm(sensor, info.unit if info else "", limits, (*LEVELS, Level.ROC))
        edit = await self.push_screen_wait(form)
        if edit is None:
            return
        try:
            await self.feed.change_limits(sensor, edit.limits, self.operator, edit.reason)
        except (NotConnected, ConfigError, ActionRefused) as error:
            self.notify(f"cannot change the limits: {error}", severity="error")
            return
        self.notify(f"sent the new alarm limits of {sensor} to every coordinator")

    def action_quit_room(self) -> None:
        running = [
            c
            for c in self.children_processes.running()
            if c.label.startswith(("sensor-", SCENARIO_LABEL))
        ]
        if not running:
            self.exit()
            return
        names = ", ".join(
            c.label.removeprefix("sensor-").replace(SCENARIO_LABEL, "scenario ", 1) for c in running
        )

        def answered(answer: str | None) -> None:
            if answer == "stop":
                self.run_worker(self._stop_children_and_exit(), group="quit")
            elif answer == "leave":
                self.exit()

        self.push_screen(
            ChoiceDialog(
                f"This session started {len(running)} sensor(s): {names}.\n"
                "Stop them before quitting?",
                [("y", "Stop them", "stop"), ("n", "Leave them running", "leave")],
            ),
            answered,
        )

    def _hang_up(self, signum: int) -> None:
        log.info("%s: stopping the sensors this session started", signal.Signals(signum).name)
        self.run_worker(self._stop_children_and_exit(), group="quit", exclusive=True)
        # After a hang-up the terminal is gone and writing to it can block the event loop for
        # good, so the deadline runs on a thread of its own. A process that must leave leaves
        # (and `controlroom up`'s plant follows its parent out).
        deadline = threading.Timer(HANG_UP_GRACE_S, os._exit, (128 + signum,))
        deadline.daemon = True
        deadline.start()

    async def _stop_children_and_exit(self) -> None:
        self.notify("stopping the sensors this session started…")
        await asyncio.to_thread(self.children_processes.stop_all)
        self.exit()

    def _watch_children(self) -> None:
        for child in self.children_processes.exited():
            status = child.process.returncode
            last = child.last_log_line()
            if child.label.startswith(SCENARIO_LABEL) and status in (0, EXIT_INTERRUPTED):
                self.notify(f"scenario {child.label.removeprefix(SCENARIO_LABEL)}: {last}")
            elif status != 0:
                self.notify(
                    f"{child.label} exited with status {status}: {last}",
                    severity="error",
                    timeout=10,
                )
            self.post_message(ChildExited(child.label, status, last))
