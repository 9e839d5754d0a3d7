"""A flood: a source publishing faster than the plant drains, until the backlog bound is hit.

The documented policy (controlroom/topology.py, docs/reliability.md): the bounded queues refuse
new messages (`reject-publish`), the publisher's confirm becomes a nack, and the data stays with
the sender: the coordinator keeps its input unacked, a sensor keeps readings in its bounded
buffer and, when that is full, drops the oldest, counts them, logs it and reports the count in
its goodbye. The audit then finds every missing reading explained by a drop, nothing else.

The real bounds are hundreds of megabytes; a policy lowers them for this plant's queues only
(RabbitMQ applies the smaller of a policy's and a queue argument's max-length-bytes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.harness import Broker, Plant, assert_complete
from tests.support import wait_for, wait_until

pytestmark = pytest.mark.faults

QUEUE_BOUND_BYTES = 256 * 1024
SENSOR_BUFFER_READINGS = 3000


@pytest.fixture
async def small_bound(plant: Plant, broker: Broker) -> AsyncIterator[str]:
    """A policy that bounds this plant's readings and persist queues to QUEUE_BOUND_BYTES."""
    name = f"{plant.settings.plant}-flood"
    pattern = f"^{plant.settings.plant}\\.(readings\\..*|persist)$"
    broker.set_policy(name, pattern, f'{{"max-length-bytes": {QUEUE_BOUND_BYTES}}}')
    try:
        yield name
    finally:
        broker.clear_policy(name)


async def test_flood_until_the_readings_queue_is_full(plant: Plant, small_bound: str) -> None:
    # No coordinator yet: nothing drains the sensor's queue.
    sensor = plant.sensor("flood", freq=1000, buffer=str(SENSOR_BUFFER_READINGS))
    readings = plant.topology.readings_queue("flood")
    wait_until(lambda: "failed" in sensor.log(), what="the full queue to refuse a publish")
    wait_until(
        lambda: "buffer full" in sensor.log(), timeout=30, what="the sensor's buffer to overflow"
    )
    assert await plant.queue_depth(readings) > 0
    plant.assert_alive(sensor)

    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    wait_until(lambda: "again" in sensor.log(), timeout=30, what="the sensor to publish again")
    await plant.wait_flowing(500)

    plant.stop_sources(sensor)
    report = await plant.audited(reports=1)
    (run,) = report.runs
    assert run.dropped > 0, "the buffer overflowed, so readings were dropped and counted"
    assert run.missing == run.dropped, "every missing reading is one the sensor said it dropped"
    assert_complete(report, sensors=1, dropped=run.dropped)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


async def test_flood_until_the_persist_queue_is_full(plant: Plant, small_bound: str) -> None:
    # No datamanager yet: the persist queue fills, the coordinator's publishes are refused.
    sensor = plant.sensor("s1", freq=500)
    gateway = plant.gateway(count=20, freq=50)
    coordinator = plant.coordinator()
    persist = plant.topology.persist_queue
    wait_until(
        lambda: "persist batch not confirmed" in coordinator.log(),
        timeout=60,
        what="the full persist queue to refuse a batch",
    )

    async def held_back() -> bool:
        # The coordinator holds its input: the sources' queues fill up behind it.
        depth = await plant.queue_depth(plant.topology.readings_queue("g-gateway"))
        return depth > 0

    await wait_for(held_back, what="the backlog to move upstream")
    assert await plant.queue_depth(persist) > 0
    plant.assert_alive(sensor, gateway, coordinator)

    # Stopping now leaves refused batches unconfirmed: the coordinator must still leave, in
    # bounded time, and their readings must wait on the sources' queues for its successor.
    assert coordinator.stop(timeout=30) == 0
    assert "leaving with persist batches unconfirmed" in coordinator.log()
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await plant.wait_flowing(1000, timeout=60)

    plant.stop_sources(sensor, gateway)
    report = await plant.audited(reports=21, timeout=90)
    assert_complete(report, sensors=21)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()
