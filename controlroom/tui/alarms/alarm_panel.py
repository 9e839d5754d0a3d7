"""Alarms, unacknowledged first; an unacknowledged alarm stands out in colour and in words."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style

from controlroom.messages import Alarm, us_to_datetime
from controlroom.tui.line_list import HEADER_STYLE, LineList, fit
from controlroom.tui.states import format_value

UNACKED_ACTIVE = Style(color="bright_white", bgcolor="red", bold=True)
UNACKED_CLEARED = Style(color="red", bold=True)
ACKED_ACTIVE = Style(color="yellow")
FINISHED = Style(dim=True)
NUMBER = 9
# Every column but the sensor's, with the gaps, and room for the longest state words.
FIXED_WIDTH = 1 + 8 + 1 + 1 + 4 + 3 * (NUMBER + 1) + 1 + len("! CLEARED, NOT ACKED")


def alarm_status(alarm: Alarm) -> tuple[str, Style]:
    """The words and the look of an alarm's state."""
    if alarm.acked_at is None:
        if alarm.active:
            return "! ACTIVE, NOT ACKED", UNACKED_ACTIVE
        return "! CLEARED, NOT ACKED", UNACKED_CLEARED
    by = f" by {alarm.acked_by}" if alarm.acked_by else ""
    if alarm.active:
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
        selected = self.selected
        self.alarms = alarms
        if selected is not None:
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
    def sensor_width(width: int) -> int:
        """The sensor column takes what the others leave, from 12 to 28 cells."""
        return min(max(width - FIXED_WIDTH, 12), 28)

    def render_header(self, width: int) -> list[Segment]:
        text = " ".join(
            (
                " " + fit("RAISED", 8),
                fit("SENSOR", self.sensor_width(width)),
                fit("KIND", 4),
                fit("VALUE", NUMBER, True),
                fit("LIMIT", NUMBER, True),
                fit("PEAK", NUMBER, True),
                " STATE",
            )
        )
        return [Segment(text, HEADER_STYLE)]

    def render_row(self, index: int, width: int) -> list[Segment]:
        if not self.alarms:
            return [Segment(" No alarms.", FINISHED)]
        alarm = self.alarms[index]
        words, style = alarm_status(alarm)
        plain = FINISHED if style is FINISHED else Style()
        text = " ".join(
            (
                " " + fit(clock(alarm.raised_at), 8),
                fit(alarm.sensor, self.sensor_width(width)),
                fit(alarm.kind.value, 4),
                fit(format_value(alarm.value), NUMBER, right=True),
                fit(format_value(alarm.limit), NUMBER, right=True),
                fit(format_value(alarm.peak), NUMBER, right=True),
                "",
            )
        )
        return [Segment(text, plain), Segment(words, style)]
