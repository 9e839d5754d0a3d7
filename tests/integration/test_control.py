"""Remote stop (an operator's action, which the coordinator passes on to the sensor's source
on the stops exchange), for a lone sensor and for one sensor of a gateway."""

from __future__ import annotations

from collections.abc import Callable

from controlroom.broker.feed import ViewerFeed
from controlroom.config import Settings
from controlroom.plant.sensors import Liveness
from controlroom.wire.envelopes import StatusChange
from tests.support import EventTap, Worker, wait_for


async def send_stop(settings: Settings, sensor: str) -> None:
    """An operator's stop, as a control room sends it: an action, which the coordinator passes
    on to the sensor's source."""
    feed = ViewerFeed(settings, "operator", lambda message: None)
    await feed.start()
    try:
        await feed.stop_sensor(sensor, "test")
    finally:
        await feed.close()


async def test_remote_stop_ends_a_sensor_with_a_goodbye(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    async with EventTap(settings, "status.#") as tap:
        start_worker("coordinator")
        sensor = start_worker("sensor", "--name", "pump", "--freq", "20")

        def states() -> list[Liveness]:
            return [s.liveness for s in tap.of_type(StatusChange) if s.sensor == "pump"]

        async def live() -> bool:
            return Liveness.LIVE in states()

        await wait_for(live, what="the sensor to be live")
        await send_stop(settings, "pump")
        assert await sensor.wait(timeout=20) == 0, "the sensor exits after a remote stop"

        async def offline() -> bool:
            return states()[-1:] == [Liveness.OFFLINE]

        await wait_for(offline, what="OFFLINE after the remote stop")
    # The operator's login (user_id, vouched by the broker), passed on by the coordinator.
    assert "stop requested for pump by guest (via guest)" in sensor.log_text()


async def test_stopping_one_sensor_of_a_gateway_leaves_the_others_running(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    async with EventTap(settings, "status.#") as tap:
        start_worker("coordinator")
        gateway = start_worker("sensors", "--count", "3", "--freq", "10", "--prefix", "g")

        def last_state(name: str) -> Liveness | None:
            seen = [s.liveness for s in tap.of_type(StatusChange) if s.sensor == name]
            return seen[-1] if seen else None

        async def all_live() -> bool:
            return all(last_state(f"g-{n}") is Liveness.LIVE for n in (1, 2, 3))

        await wait_for(all_live, what="the gateway's sensors to be live")
        await send_stop(settings, "g-2")

        async def only_g2_offline() -> bool:
            return last_state("g-2") is Liveness.OFFLINE

        await wait_for(only_g2_offline, what="g-2 to go OFFLINE")
        assert last_state("g-1") is Liveness.LIVE
        assert gateway.running()
