"""RabbitMQ stopped and started (stop_app/start_app) three times in a row mid-stream."""

from __future__ import annotations

import pytest

from tests.faults.harness import Broker, Plant, logged
from tests.support import until

pytestmark = pytest.mark.faults

OUTAGES = 3


async def test_broker_restarted_three_times(plant: Plant, broker: Broker) -> None:
    load = await plant.steady_load()
    workers = (load.sensor, load.gateway, load.coordinator, load.datamanager)

    for outage in range(1, OUTAGES + 1):
        await broker.stop()
        for worker in workers:
            await until(
                logged(worker, "broker connection lost", outage),
                f"{worker.args[0]} to notice outage {outage}",
            )
        await broker.start()
        for worker in workers:
            await until(
                logged(worker, "broker connection restored", outage),
                f"{worker.args[0]} to reconnect after outage {outage}",
                timeout=30,
            )
        await plant.wait_flowing(200, timeout=45)

    await plant.ends_clean(load, timeout=90)
