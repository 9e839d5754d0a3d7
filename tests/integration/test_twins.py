"""A sensor of a large gateway (whose names are not claimed one by one) and a lone sensor of the
same name both run: the coordinator warns the operators once, on the events exchange and in
one log line."""

from __future__ import annotations

from collections.abc import Callable

from controlroom.config import Settings
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import TwinWarning
from tests.support import EventTap, Worker, until
from workers.gateway import CLAIM_EACH_UP_TO


async def test_a_lone_sensor_beside_a_large_gateway_of_its_name_is_reported_once(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    count = CLAIM_EACH_UP_TO + 1
    async with EventTap(settings, "warning.#", "reading.big-001") as tap:
        coordinator = start_worker("coordinator")
        start_worker("sensors", "--count", str(count), "--prefix", "big", "--freq", "5")
        start_worker("sensor", "--name", "big-001", "--freq", "20")

        warnings = await until(lambda: tap.of_type(TwinWarning), "a twin warning", timeout=30)
        assert [(w.sensor, sorted(w.sources)) for w in warnings] == [
            ("big-001", ["big-001", "big-gateway"])
        ]
        # Frames of both runs go on arriving: still one warning, and one log line.
        heard = len(tap.of_type(Frame))
        await until(lambda: len(tap.of_type(Frame)) >= heard + 20, "more of the lone sensor")
        assert len(tap.of_type(TwinWarning)) == 1
        lines = [line for line in coordinator.log_text().splitlines() if "runs twice" in line]
        assert len(lines) == 1, lines
        assert "sensor 'big-001' runs twice" in lines[0]
        assert "'big-gateway'" in lines[0]
