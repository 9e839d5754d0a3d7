"""The action log (`L`): who did what, when (acknowledgements, stops, comments, shelving,
limit changes), filtered by time and free text, newest first; `s` saves it as CSV."""

from __future__ import annotations

from typing import BinaryIO

import asyncpg
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.widgets import Input

from controlroom.db.alarm_log import ActionFilter, action_log, describe_detail, export_actions
from controlroom.db.history import History
from controlroom.plant.records import Action
from controlroom.tui.history.log_screen import DEFAULT_SINCE, LogScreen, moment_us, stamp
from controlroom.tui.line_list import fit
from controlroom.tui.saving import Write
from controlroom.tui.states import MUTED

STAMP = 14
OPERATOR = 14
ACTION = 12
SENSOR = 22
BOLD = Style(bold=True)


class ActionLogScreen(LogScreen[Action]):
    TITLE_TEXT = "Action log (PostgreSQL): who did what, when"
    FILE_NAME = "actions"

    def filter_fields(self) -> ComposeResult:
        yield Input(
            DEFAULT_SINCE, placeholder="since (24h, 7d, a moment)", id="since", compact=True
        )
        yield Input(placeholder="until (now, 1h, a moment)", id="until", compact=True)
        yield Input(placeholder="text: operator, action, sensor, detail", id="text", compact=True)

    def chosen(self, now_us: int) -> ActionFilter:
        return ActionFilter(
            since_us=moment_us(self.query_one("#since", Input).value, now_us),
            until_us=moment_us(self.query_one("#until", Input).value, now_us),
            text=self.query_one("#text", Input).value.strip(),
        )

    async def fetch(self, history: History, now_us: int) -> list[Action]:
        chosen = self.chosen(now_us)
        return await history.run(lambda connection: action_log(connection, chosen))

    def writer(self, now_us: int) -> Write:
        chosen = self.chosen(now_us)

        async def write(connection: asyncpg.Connection, out: BinaryIO) -> int:
            return await export_actions(connection, chosen, out)

        return write

    def header_line(self, width: int) -> str:
        columns = [" " + fit("AT", STAMP), fit("OPERATOR", OPERATOR), fit("ACTION", ACTION)]
        return " ".join([*columns, fit("SENSOR", SENSOR), "DETAIL"])

    def draw_row(self, action: Action, width: int) -> list[Segment]:
        return [
            Segment(" " + fit(stamp(action.at), STAMP) + " "),
            Segment(fit(action.operator, OPERATOR) + " "),
            Segment(fit(action.action, ACTION) + " ", BOLD),
            Segment(fit(action.sensor or "", SENSOR) + " "),
            Segment(describe_detail(action.detail), MUTED),
        ]
