"""The replay's engine: stored history fed into a control room model as the live feed would.

A `ReplayPlayer` owns a `PlantModel` of its own (the live one is left alone, and goes on
following the plant underneath) and a `ReplayClock`. `start` puts the model where the plant was
at the chosen moment: the known sensors, each one's last readings before it (the sparklines),
the alarms open then, as they were then, and each sensor's liveness. Each `advance` or `step`
then moves the clock and applies what happened in the stretch that passed: the readings as
one frame, the alarms that were raised, cleared or acknowledged in it, and the liveness
changes. Readings are fetched ahead in chunks of a few seconds of history (more at higher
speeds), so playing costs a query every few ticks, not one per tick.
"""

from __future__ import annotations

import bisect

from controlroom.db.history import History, recent_readings
from controlroom.db.replay import Readings, alarms_between, alarms_open_at, readings_between
from controlroom.plant.alarms import Alarm
from controlroom.plant.readings import Frame
from controlroom.plant.replay import (
    ReplayClock,
    alarm_as_of,
    changed_between,
    liveness_as_of,
    open_as_of,
)
from controlroom.plant.sensors import Liveness
from controlroom.tui.model import PlantModel
from controlroom.wire.envelopes import StatusChange, StatusChanges

SOURCE = "replay"  # the frames a replay makes name this source and run
PER_SENSOR = 120  # readings before the start moment, per sensor: a sparkline's worth
BEFORE_S = 15 * 60  # looked back at most this far for them
CHUNK_S = 2.0  # history fetched ahead, in seconds of history per unit of speed


class ReplayPlayer:
    def __init__(self, history: History, start_us: int, end_us: int, speed: int = 1) -> None:
        self.history = history
        self.model = PlantModel()
        self.clock = ReplayClock(start_us, end_us, speed)
        self._ahead = Readings()  # fetched, not yet played
        self._fetched_until = start_us
        self._alarms: dict[str, Alarm] = {}  # as stored now, by id: what happens to them later
        self._last_heard: dict[str, int] = {}
        self._periods: dict[str, float] = {}
        self._liveness: dict[str, Liveness] = {}

    async def start(self) -> None:
        at = self.clock.position_us
        sensors = await self.history.sensors()
        recent = await self.history.run(
            lambda c: recent_readings(c, PER_SENSOR, at - BEFORE_S * 1_000_000, at)
        )
        stored = await self.history.run(lambda c: alarms_open_at(c, at))
        model = self.model
        model.load_sensors(sensors)
        model.load_recent(recent)
        model.load_alarms(open_as_of(stored, at))
        self._alarms.update((alarm.id, alarm) for alarm in stored)
        self._periods = {info.name: info.period_s for info in sensors}
        self._last_heard = {name: points[-1][0] for name, points in recent.items() if points}
        self._judge_liveness(at)

    async def advance(self, real_s: float) -> None:
        await self._play(*self.clock.advance(real_s))

    async def step(self, seconds: float) -> None:
        await self._play(*self.clock.step(seconds))

    async def _play(self, since_us: int, until_us: int) -> None:
        if until_us <= since_us:
            return
        await self._fetch_to(until_us)
        ahead = self._ahead
        cut = bisect.bisect_right(ahead.taken_on, until_us)
        if cut:
            names, taken_on, values = ahead.names[:cut], ahead.taken_on[:cut], ahead.values[:cut]
            self._ahead = Readings(ahead.names[cut:], ahead.taken_on[cut:], ahead.values[cut:])
            self.model.apply(Frame(SOURCE, SOURCE, names, [0] * cut, taken_on, values))
            self._last_heard.update(zip(names, taken_on, strict=True))
        changed = [
            then
            for alarm in self._alarms.values()
            if changed_between(alarm, since_us, until_us)
            and (then := alarm_as_of(alarm, until_us)) is not None
        ]
        if changed:
            self.model.load_alarms(changed)
        self._judge_liveness(until_us)

    async def _fetch_to(self, until_us: int) -> None:
        """Readings and alarm events up to `until_us` at least, a chunk ahead."""
        if until_us <= self._fetched_until:
            return
        since = self._fetched_until
        # The clock never passes its end, so this is at least `until_us`.
        upto = min(
            max(until_us, since + int(CHUNK_S * self.clock.speed * 1_000_000)),
            self.clock.end_us,
        )
        fetched = await self.history.run(lambda c: readings_between(c, since, upto))
        alarms = await self.history.run(lambda c: alarms_between(c, since, upto))
        ahead = self._ahead
        ahead.names.extend(fetched.names)
        ahead.taken_on.extend(fetched.taken_on)
        ahead.values.extend(fetched.values)
        self._alarms.update((alarm.id, alarm) for alarm in alarms)
        self._fetched_until = upto

    def _judge_liveness(self, at_us: int) -> None:
        changes = []
        for name, period in self._periods.items():
            liveness = liveness_as_of(self._last_heard.get(name), period, at_us)
            if self._liveness.get(name) is not liveness:
                self._liveness[name] = liveness
                changes.append(StatusChange(name, liveness, at_us))
        if changes:
            self.model.apply(StatusChanges(changes))
