"""Alarms, most urgent first: priority in colour and in words, the state in words.

An unacknowledged alarm's priority fills its cells with the priority colour; an acknowledged
one keeps the colour in its letters only; one that is over is muted (ISA-101).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style

from controlroom.clock import now_us, us_to_datetime
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import format_number
from controlroom.tui.line_list import HEADER_STYLE, LineList, fit
from controlroom.tui.states import (
    MUTED,
    PRIORITY_LOUD,
    PRIORITY_QUIET,
    PRIORITY_WIDTH,
    priority_label,
    priority_of,
)

FINISHED = MUTED
NUMBER = 9
# Every column but the sensor's, the value and the limit, with the gaps, and room for the
# state words.
FIXED_WIDTH = 1 + 8 + 1 + PRIORITY_WIDTH + 1 + 4 + 1 + NUMBER + 1 + len("cleared, acked by operat")
WIDE = 108  # the limit fits
NARROW = 88  # below this the value goes too (the peak stays: it is the worst)


def alarm_status(alarm: Alarm) -> tuple[str, Style]:
    """The words and the look of an alarm's state (its ISA-18.2 state, `state_of`)."""
    state = state_of(alarm, now_us())
    priority = priority_of(alarm)
    if state.held:  # shelved, suppressed, out of service: kept from the operator on purpose
        until = alarm.hold.until if alarm.hold is not None else None
        return state.value + (f" until {clock(until)}" if until else ""), FINISHED
    if state is AlarmState.UNACKED:
        return "! ACTIVE, NOT ACKED", PRIORITY_LOUD[priority]
    if state is AlarmState.RETURNED_UNACKED:
        return "! CLEARED, NOT ACKED", PRIORITY_QUIET[priority] + Style(bold=True)
    by = f" by {alarm.acked_by}" if alarm.acked_by else ""
    if state is AlarmState.ACKED:
        return f"ACTIVE, acked{by}", PRIORITY_QUIET[priority]
    return f"cleared, acked{by}", FINISHED


def priority_look(alarm: Alarm) -> tuple[str, Style]:
    """The priority's words and colour: loud while it waits for acknowledgement."""
    priority = priority_of(alarm)
    state = state_of(alarm, now_us())
    if state.needs_ack:
        return priority_label(priority), PRIORITY_LOUD[priority]
    if state is AlarmState.ACKED:
        return priority_label(priority), PRIORITY_QUIET[priority]
    return priority_label(priority), FINISHED


def clock(us: int) -> str:
    return us_to_datetime(us).astimezone().strftime("%H:%M:%S")


class AlarmPanel(LineList):
    """The alarm list under the sensor table."""

    DEFAULT_CSS = """
    AlarmPanel {
        height: 7;
        border-top: solid $error 50%;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    AlarmPanel.-quiet { height: 3; border-top: solid $foreground 30%; }
    AlarmPanel { border-title-color: $text; border-title-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alarms: Sequence[Alarm] = []
        self.border_title = "Alarms"

    def show(self, alarms: Sequence[Alarm]) -> None:
        # The operator's selection stays put while they work in the panel; otherwise the
        # cursor rests on the most urgent alarm, at the top.
        selected = self.selected if self.has_focus else None
        self.alarms = alarms
        if selected is None:
            self.cursor = 0
        else:
            for index, alarm in enumerate(alarms):
                if alarm.id == selected.id:
                    self.cursor = index
                    break
        now = now_us()
        states = [state_of(alarm, now) for alarm in alarms]
        active = sum(s in (AlarmState.UNACKED, AlarmState.ACKED) for s in states)
        unacked = sum(s.needs_ack for s in states)
        held = sum(s.held for s in states)
        title = f"Alarms: {active} active, {unacked} not acknowledged"
        self.border_title = title + (f", {held} shelved or held" if held else "")
        self.set_class(not alarms, "-quiet")
        self.rows_changed()

    @property
    def selected(self) -> Alarm | None:
        if 0 <= self.cursor < len(self.alarms):
            return self.alarms[self.cursor]
        return None

    def row_count(self) -> int:
        return max(len(self.alarms), 1)

    @staticmethod
    def columns_for(width: int) -> tuple[int, bool, bool]:
        """(sensor column width, whether the value fits, whether the limit fits): narrow
        screens drop the limit (the sensor table shows the safe range anyway), then the value."""
        with_value, with_limit = width >= NARROW, width >= WIDE
        fixed = FIXED_WIDTH + (NUMBER + 1) * (with_value + with_limit)
        return min(max(width - fixed, 12), 28), with_value, with_limit

    def render_header(self, width: int) -> list[Segment]:
        sensor, with_value, with_limit = self.columns_for(width)
        columns = [" " + fit("RAISED", 8), fit("PRIO", PRIORITY_WIDTH), fit("SENSOR", sensor)]
        columns.append(fit("KIND", 4))  # the level: LL, L, H, HH, ROC, SILE(NT)
        if with_value:
            columns.append(fit("VALUE", NUMBER, True))
        if with_limit:
            columns.append(fit("LIMIT", NUMBER, True))
        columns += [fit("PEAK", NUMBER, True), " STATE"]
        return [Segment(" ".join(columns), HEADER_STYLE)]

    def render_row(self, index: int, width: int) -> list[Segment]:
        if not self.alarms:
            return [Segment(" No alarms.", FINISHED)]
        alarm = self.alarms[index]
        words, style = alarm_status(alarm)
        priority, priority_style = priority_look(alarm)
        plain = FINISHED if style is FINISHED else Style()
        sensor, with_value, with_limit = self.columns_for(width)
        columns = [fit(alarm.sensor, sensor), fit(alarm.alarm_level.value, 4)]  # LL .. SILENT
        if with_value:
            columns.append(fit(format_number(alarm.value), NUMBER, right=True))
        if with_limit:
            columns.append(fit(format_number(alarm.limit), NUMBER, right=True))
        columns += [fit(format_number(alarm.peak), NUMBER, right=True), ""]
        return [
            Segment(" " + fit(clock(alarm.raised_at), 8) + " ", plain),
            Segment(fit(priority, PRIORITY_WIDTH), priority_style),
            Segment(" " + " ".join(columns), plain),
            Segment(words, style),
        ]
