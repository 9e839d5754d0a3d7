"""Replay: an incident recorded live (a sensor beyond its limit, its alarm acknowledged) is put
back on screen from the stored history, and shows what was live at the recorded times.

The live control room records what it showed; then the same app opens the replay of a moment
before the incident and steps to each recorded time, and the replay's model must say the same:
the value and its time, the sensor's state word, the alarm raised and then acknowledged by the
operator. From the replay no key acts on the plant, and `l` goes back to the live screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncpg

from controlroom.config import Settings
from controlroom.plant.alarms import Alarm
from controlroom.tui import ControlRoom
from controlroom.tui.messages import AckRequested
from controlroom.tui.model import PlantModel
from controlroom.tui.replay.replay_screen import ReplayScreen
from tests.support import Worker, until, wait_for
from tests.tui.test_pilot import ACTOR, HOT_PROBE, OPERATOR, SIZE, row_state, select

SENSOR = HOT_PROBE[2]


def state_in(model: PlantModel, sensor: str) -> str | None:
    view = model.sensors.get(sensor)
    return None if view is None else view.state


def alarms_of(model: PlantModel, sensor: str) -> list[Alarm]:
    return [alarm for alarm in model.alarm_list() if alarm.sensor == sensor]


async def test_a_recorded_incident_replays_as_it_was_live(
    settings: Settings,
    pipeline: None,
    start_worker: Callable[..., Worker],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    start_worker(*HOT_PROBE)
    said: list[object] = []
    app = ControlRoom(settings, operator=OPERATOR, log_dir=tmp_path / "logs")
    async with app.run_test(size=SIZE, message_hook=said.append) as pilot:
        # Live: the alarm, the row HIGH, then the acknowledgement; what was shown is noted.
        await until(lambda: alarms_of(app.model, SENSOR), "the alarm live")
        await until(lambda: row_state(app, SENSOR) == "HIGH", "the row HIGH live")
        live_view = app.model.sensors[SENSOR]
        assert live_view.taken_on is not None and live_view.value is not None
        seen_at, seen_value = live_view.taken_on, live_view.value
        await select(pilot, app, SENSOR)
        await pilot.press("a")
        await until(lambda: any(isinstance(m, AckRequested) for m in said), "the ack sent")
        acked = await until(
            lambda: [a for a in alarms_of(app.model, SENSOR) if a.acked_at is not None],
            "the acknowledgement live",
        )
        alarm = acked[0]
        assert alarm.acked_at is not None and alarm.acked_by == ACTOR

        async def first_stored() -> int | None:
            first: int | None = await db.fetchval(
                "SELECT floor(extract(epoch FROM min(taken_on)) * 1000000)::bigint "
                "FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id WHERE s.name = $1",
                SENSOR,
            )
            return first

        first = await wait_for(first_stored, what="the sensor's readings stored")
        assert first is not None

        async def stored_through_ack() -> bool:
            newest = await db.fetchval(
                "SELECT floor(extract(epoch FROM max(taken_on)) * 1000000)::bigint "
                "FROM sensor_reading"
            )
            return newest is not None and newest > max(seen_at, alarm.acked_at or 0)

        await wait_for(stored_through_ack, what="readings stored past the acknowledgement")

        # Replay from two seconds before the first reading: nothing yet.
        app.start_replay(first - 2_000_000)
        screen = await until(
            lambda: app.screen if isinstance(app.screen, ReplayScreen) and app.screen.ready
            else None,
            "the replay loaded",
        )  # fmt: skip
        await pilot.press("space")  # paused: the test moves the clock
        player = screen.player
        assert not player.clock.playing
        replayed = player.model
        assert state_in(replayed, SENSOR) == "OFFLINE"
        assert alarms_of(replayed, SENSOR) == []
        assert "REPLAY" in str(screen.banner.render())

        await player.step((alarm.raised_at - 1 - player.clock.position_us) / 1e6)
        assert alarms_of(replayed, SENSOR) == []  # a microsecond before it was raised
        await player.step((alarm.raised_at - player.clock.position_us) / 1e6)
        [raised] = alarms_of(replayed, SENSOR)
        assert (raised.id, raised.kind, raised.acked_at) == (alarm.id, alarm.kind, None)
        assert state_in(replayed, SENSOR) == "HIGH"

        await player.step((seen_at - player.clock.position_us) / 1e6)
        view = replayed.sensors[SENSOR]
        assert (view.taken_on, view.value) == (seen_at, seen_value)  # as the live row showed

        assert alarm.acked_at is not None
        await player.step((alarm.acked_at - player.clock.position_us) / 1e6)
        [then] = alarms_of(replayed, SENSOR)
        assert (then.acked_at, then.acked_by) == (alarm.acked_at, ACTOR)

        # No key acts on the plant from here; `l` is live again.
        acks_before = sum(isinstance(m, AckRequested) for m in said)
        await pilot.press("a", "x", "n")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen)
        assert sum(isinstance(m, AckRequested) for m in said) == acks_before
        await pilot.press("l")
        await until(lambda: not isinstance(app.screen, ReplayScreen), "back to live")
        assert row_state(app, SENSOR) == "HIGH"
