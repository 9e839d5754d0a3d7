"""Alarms, unacknowledged first; an unacknowledged alarm stands out in colour and in words."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style

from controlroom.clock import us_to_datetime
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm
from controlroom.plant.numbers import format_number
from controlroom.tui.line_list import HEADER_STYLE, LineList, fit

UNACKED_ACTIVE = Style(color="bright_white", bgcolor="red", bold=True)
UNACKED_CLEARED = Style(color="red", bold=True)
ACKED_ACTIVE = Style(color="yellow")
FINISHED = Style(dim=True)
NUMBER = 9
# Every column but the sensor's and the limit, with the gaps, and room for the state words.
FIXED_WIDTH = 1 + 8 + 1 + 1 + 4 + 2 * (NUMBER + 1) + 1 + len("cleared, acked by operator")
WIDE = 100


def alarm_status(alarm: Alarm) -> tuple[str, Style]:
    """The words and the look of an alarm's state (its ISA-18.2 state, `state_of`)."""
    state = state_of(alarm)
    if state is AlarmState.UNACKED:
        return "! ACTIVE, NOT ACKED", UNACKED_ACTIVE
    if state is AlarmState.RETURNED_UNACKED:
        return "! CLEARED, NOT ACKED", UNACKED_CLEARED
    by = f" by {alarm.acked_by}" if alarm.acked_by else ""
    if state is AlarmState.ACKED:
        return f"ACTIVE, acked{by}", ACKED_ACTIVE
    return f"cleared, acked{by}", FINISHED


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
    AlarmPanel.-quiet { height: 3; border-top: solid $success 50%; }
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
        unacked = sum(1 for alarm in alarms if alarm.acked_at is None)
        active = sum(1 for alarm in alarms if alarm.active)
        self.border_title = f"Alarms: {active} active, {unacked} not acknowledged"
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
    def columns_for(width: int) -> tuple[int, bool]:
        """(sensor column width, whether the limit column fits): narrow screens drop the limit,
        which the sensor table shows as the safe range anyway."""
        with_limit = width >= WIDE
        fixed = FIXED_WIDTH + (NUMBER + 1 if with_limit else 0)
        return min(max(width - fixed, 12), 28), with_limit

    def render_header(self, width: int) -> list[Segment]:
        sensor, with_limit = self.columns_for(width)
        columns = [" " + fit("RAISED", 8), fit("SENSOR", sensor), fit("KIND", 4)]
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
        plain = FINISHED if style is FINISHED else Style()
        sensor, with_limit = self.columns_for(width)
        columns = [" " + fit(clock(alarm.raised_at), 8), fit(alarm.sensor, sensor)]
        columns += [fit(alarm.kind.value, 4), fit(format_number(alarm.value), NUMBER, right=True)]
        if with_limit:
            columns.append(fit(format_number(alarm.limit), NUMBER, right=True))
        columns += [fit(format_number(alarm.peak), NUMBER, right=True), ""]
        text = " ".join(columns)
        return [Segment(text, plain), Segment(words, style)]
