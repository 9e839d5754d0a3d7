"""Replay, the flight recorder: the plant as it was at a moment of its stored history.

The rules here are pure, so the control room's replay screen and its tests share them: what an
alarm looked like at a moment (`alarm_as_of`), which alarms were open then (`open_as_of`), a
sensor's liveness judged from when it was last heard (`liveness_as_of`, the coordinator's
rule), and the replay's clock (`ReplayClock`: a position in the past that moves at 1x to 60x,
pauses, and steps).

What cannot be told from the stored history, and so is not replayed: an alarm's peak as it
grew (the stored peak is the excursion's last), and a goodbye (a sensor that left reads as
STALE, not OFFLINE, until it has been silent for `OFFLINE_AFTER_S`).
"""

from __future__ import annotations

import msgspec

from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import STALE_AFTER_PERIODS, Liveness

SPEEDS = (1, 2, 5, 10, 30, 60)  # how fast a replay can run, times real time
OFFLINE_AFTER_S = 60.0  # silent this long in the replayed history: shown OFFLINE


def alarm_as_of(alarm: Alarm, at_us: int) -> Alarm | None:
    """The alarm as a viewer knew it at `at_us`: None before it was raised, and without a
    clearing or an acknowledgement that came later."""
    if alarm.raised_at > at_us:
        return None
    cleared = (
        alarm.cleared_at if alarm.cleared_at is not None and alarm.cleared_at <= at_us else None
    )
    acked = alarm.acked_at is not None and alarm.acked_at <= at_us
    if cleared == alarm.cleared_at and (acked or alarm.acked_at is None):
        return alarm
    return msgspec.structs.replace(
        alarm,
        cleared_at=cleared,
        acked_at=alarm.acked_at if acked else None,
        acked_by=alarm.acked_by if acked else None,
    )


def open_as_of(alarms: list[Alarm], at_us: int) -> list[Alarm]:
    """The alarms open at `at_us` (raised, and not both cleared and acknowledged), as then."""
    found = []
    for alarm in alarms:
        then = alarm_as_of(alarm, at_us)
        if then is not None and (then.cleared_at is None or then.acked_at is None):
            found.append(then)
    return found


def changed_between(alarm: Alarm, since_us: int, until_us: int) -> bool:
    """Something happened to the alarm in (since, until]: raised, cleared or acknowledged."""
    return any(
        at is not None and since_us < at <= until_us
        for at in (alarm.raised_at, alarm.cleared_at, alarm.acked_at)
    )


def liveness_as_of(last_heard_us: int | None, period_s: float, at_us: int) -> Liveness:
    """LIVE within three periods of its last reading, then STALE, then OFFLINE."""
    if last_heard_us is None:
        return Liveness.OFFLINE
    silent_s = (at_us - last_heard_us) / 1e6
    if silent_s <= STALE_AFTER_PERIODS * period_s:
        return Liveness.LIVE
    return (
        Liveness.STALE
        if silent_s <= max(OFFLINE_AFTER_S, STALE_AFTER_PERIODS * period_s)
        else Liveness.OFFLINE
    )


class ReplayClock:
    """Where the replay is in the past, and how fast it moves.

    `advance` is called with the real time that passed; it returns the stretch of history
    that passed meanwhile, (from, to], empty while paused. Never beyond `end_us` (now, for a
    replay that catches up with the present): it stops there, paused.
    """

    def __init__(self, start_us: int, end_us: int, speed: int = 1) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed {speed} is not one of {SPEEDS}")
        self.position_us = start_us
        self.end_us = end_us
        self.speed = speed
        self.playing = True

    @property
    def at_end(self) -> bool:
        return self.position_us >= self.end_us

    def advance(self, real_s: float) -> tuple[int, int]:
        before = self.position_us
        if self.playing:
            self._move_to(before + round(real_s * self.speed * 1e6))
        return before, self.position_us

    def step(self, seconds: float) -> tuple[int, int]:
        """Move on by `seconds` of history at once (paused or not)."""
        before = self.position_us
        self._move_to(before + round(seconds * 1e6))
        return before, self.position_us

    def faster(self) -> int:
        self.speed = SPEEDS[min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1)]
        return self.speed

    def slower(self) -> int:
        self.speed = SPEEDS[max(SPEEDS.index(self.speed) - 1, 0)]
        return self.speed

    def toggle(self) -> bool:
        self.playing = not self.playing and not self.at_end
        return self.playing

    def _move_to(self, position_us: int) -> None:
        self.position_us = min(position_us, self.end_us)
        if self.at_end:
            self.playing = False
