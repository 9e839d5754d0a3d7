"""The bell: a new unacknowledged alarm of high or critical priority rings the terminal's bell,
and it rings again every BELL_REPEAT_S until every such alarm is acknowledged or the operator
silences the bell. Silencing covers the alarms calling at that moment; a newer one rings again.

Only what decides is here (which alarms call, which are new); the app rings (`App.bell`).
"""

from __future__ import annotations

from collections.abc import Iterable

from controlroom.plant.alarm_limits import Priority
from controlroom.plant.alarm_states import state_of
from controlroom.plant.alarms import Alarm
from controlroom.tui.states import priority_of

BELL_REPEAT_S = 3.0
RINGING_PRIORITIES = frozenset({Priority.CRITICAL, Priority.HIGH})


def calls(alarm: Alarm, now_us: int | None = None) -> bool:
    """An alarm of high or critical priority waiting for its acknowledgement (a shelved one
    does not: it is kept from the operator on purpose)."""
    return state_of(alarm, now_us).needs_ack and priority_of(alarm) in RINGING_PRIORITIES


class Bell:
    """Which alarms call the operator, which of them are new, which are silenced."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.calling: list[Alarm] = []
        self._heard: set[str] = set()  # the alarms calling at the last update
        self._silenced: set[str] = set()

    def update(self, alarms: Iterable[Alarm], now_us: int | None = None) -> bool:
        """Take the open alarms; True if one calls that has not rung yet (ring at once)."""
        waiting = [alarm for alarm in alarms if calls(alarm, now_us)]
        self._silenced &= {alarm.id for alarm in waiting}  # acknowledged ones are forgotten
        calling = [alarm for alarm in waiting if alarm.id not in self._silenced]
        ids = {alarm.id for alarm in calling}
        new = bool(ids - self._heard)
        self._heard = ids
        self.calling = calling
        return self.enabled and new

    @property
    def ringing(self) -> bool:
        """Ring now (the repeat): something calls and the bell is on."""
        return self.enabled and bool(self.calling)

    def silence(self) -> int:
        """Silence what calls now; returns how many alarms that was."""
        silenced = len(self.calling)
        self._silenced |= {alarm.id for alarm in self.calling}
        self.calling = []
        return silenced
