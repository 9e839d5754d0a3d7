"""The alarm history (`h`): every stored alarm, filtered by sensor, priority, state, time and
free text, newest first; `s` saves what is listed as CSV."""

from __future__ import annotations

from typing import BinaryIO

import asyncpg
from rich.segment import Segment
from textual.app import ComposeResult
from textual.widgets import Input, Select

from controlroom.db.alarm_log import AlarmFilter, alarm_history, export_alarms
from controlroom.db.history import History
from controlroom.plant.alarm_limits import PRIORITIES, Priority
from controlroom.plant.alarm_states import AlarmState
from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import format_number
from controlroom.tui.alarms.alarm_panel import FINISHED, alarm_status, priority_look
from controlroom.tui.history.log_screen import DEFAULT_SINCE, LogScreen, moment_us, stamp
from controlroom.tui.line_list import fit
from controlroom.tui.saving import Write
from controlroom.tui.states import PRIORITY_WIDTH, priority_label

STAMP = 14
NUMBER = 9
# The states one activation records (`state_of`), in the order an operator looks for them.
STATES = (
    AlarmState.UNACKED,
    AlarmState.RETURNED_UNACKED,
    AlarmState.ACKED,
    AlarmState.NORMAL,
)


class AlarmHistoryScreen(LogScreen[Alarm]):
    TITLE_TEXT = "Alarm history (PostgreSQL) · tab moves between the filters and the list"
    FILE_NAME = "alarms"

    def filter_fields(self) -> ComposeResult:
        yield Input(placeholder="sensor", id="sensor", compact=True)
        yield Select(
            [(priority_label(p), p.value) for p in PRIORITIES],
            prompt="any priority",
            id="priority",
            compact=True,
        )
        yield Select(
            [(s.value, s.value) for s in STATES], prompt="any state", id="state", compact=True
        )
        yield Input(
            DEFAULT_SINCE, placeholder="since (24h, 7d, a moment)", id="since", compact=True
        )
        yield Input(placeholder="until (now, 1h, a moment)", id="until", compact=True)
        yield Input(placeholder="text", id="text", compact=True)

    def chosen(self, now_us: int) -> AlarmFilter:
        """The filter the fields say (ValueError: the time does not parse)."""
        priority = self.query_one("#priority", Select).value
        state = self.query_one("#state", Select).value
        return AlarmFilter(
            sensor=self.query_one("#sensor", Input).value.strip(),
            priority=Priority(priority) if isinstance(priority, str) else None,
            state=AlarmState(state) if isinstance(state, str) else None,
            since_us=moment_us(self.query_one("#since", Input).value, now_us),
            until_us=moment_us(self.query_one("#until", Input).value, now_us),
            text=self.query_one("#text", Input).value.strip(),
        )

    async def fetch(self, history: History, now_us: int) -> list[Alarm]:
        chosen = self.chosen(now_us)
        return await history.run(lambda connection: alarm_history(connection, chosen))

    def writer(self, now_us: int) -> Write:
        chosen = self.chosen(now_us)

        async def write(connection: asyncpg.Connection, out: BinaryIO) -> int:
            return await export_alarms(connection, chosen, out)

        return write

    @staticmethod
    def sensor_width(width: int) -> int:
        fixed = 1 + STAMP + 1 + PRIORITY_WIDTH + 1 + 4 + 1 + NUMBER + 1 + STAMP + 1 + 24
        return min(max(width - fixed, 12), 28)

    def header_line(self, width: int) -> str:
        columns = [" " + fit("RAISED", STAMP), fit("PRIO", PRIORITY_WIDTH)]
        columns += [fit("SENSOR", self.sensor_width(width)), fit("KIND", 4)]
        columns += [fit("PEAK", NUMBER, right=True), fit("CLEARED", STAMP), "STATE"]
        return " ".join(columns)

    def draw_row(self, alarm: Alarm, width: int) -> list[Segment]:
        words, style = alarm_status(alarm)
        priority, priority_style = priority_look(alarm)
        plain = FINISHED if style is FINISHED else None
        rest = [fit(alarm.sensor, self.sensor_width(width)), fit(alarm.alarm_level.value, 4)]
        rest += [fit(format_number(alarm.peak), NUMBER, right=True)]
        rest += [fit(stamp(alarm.cleared_at), STAMP), ""]
        return [
            Segment(" " + fit(stamp(alarm.raised_at), STAMP) + " ", plain),
            Segment(fit(priority, PRIORITY_WIDTH), priority_style),
            Segment(" " + " ".join(rest), plain),
            Segment(words, style),
        ]
