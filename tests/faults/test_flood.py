"""A flood: a source publishing faster than the plant drains, until the backlog bound is hit.

The documented policy (controlroom/topology.py, docs/reliability.md): the bounded queues refuse
new messages (`reject-publish`), the publisher's confirm becomes a nack, and the data stays with
the sender: the coordinator keeps its input unacked, a sensor keeps readings in its bounded
buffer and, when that is full, drops the oldest, counts them, logs it and reports the count in
its goodbye. The audit then finds every missing reading explained by a drop, nothing else.

The real bounds are hundreds of megabytes; policies bound this plant's queues to a few messages
(RabbitMQ applies a policy's max-length together with the queue's own byte bound, and the
queue's `reject-publish` overflow).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.harness import Broker, Plant, assert_complete
from tests.support import until, wait_for

pytestmark = pytest.mark.faults

# Bounds in messages, not bytes: a message larger than a byte bound could never be accepted,
# even by an empty queue, and a sensor's merged backlog or a coordinator's batch can be large.
# (The real byte bounds are over fifty times the largest message either can send.)
READINGS_BOUND_MESSAGES = 2000
PERSIST_BOUND_MESSAGES = 20
SENSOR_BUFFER_READINGS = 3000


@pytest.fixture
async def small_bounds(plant: Plant, broker: Broker) -> AsyncIterator[None]:
    """Policies that bound this plant's readings and persist queues to a few messages."""
    plant_name = plant.settings.plant
    policies = {
        f"{plant_name}-readings": (
            f"^{plant_name}\\.readings\\.",
            READINGS_BOUND_MESSAGES,
        ),
        f"{plant_name}-persist": (f"^{plant_name}\\.persist$", PERSIST_BOUND_MESSAGES),
    }
    for name, (pattern, bound) in policies.items():
        await broker.set_policy(name, pattern, f'{{"max-length": {bound}}}')
    try:
        yield
    finally:
        for name in policies:
            await broker.clear_policy(name)


async def test_flood_until_the_readings_queue_is_full(plant: Plant, small_bounds: None) -> None:
    # No coordinator yet: nothing drains the sensor's queue.
    sensor = plant.sensor("flood", freq=1000, buffer=str(SENSOR_BUFFER_READINGS))
    readings = plant.topology.readings_queue("flood")
    await until(lambda: "failed" in sensor.log_text(), "the full queue to refuse a publish")
    await until(
        lambda: "buffer full" in sensor.log_text(), "the sensor's buffer to overflow", timeout=30
    )
    assert await plant.queue_depth(readings) > 0
    plant.assert_alive(sensor)

    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await until(lambda: "again" in sensor.log_text(), "the sensor to publish again", timeout=30)
    await plant.wait_flowing(500)

    await plant.stop_sources(sensor)
    report = await plant.audited(reports=1)
    (run,) = report.runs
    assert run.dropped > 0, "the buffer overflowed, so readings were dropped and counted"
    assert run.missing == run.dropped, "every missing reading is one the sensor said it dropped"
    assert_complete(report, sensors=1, dropped=run.dropped)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


async def test_flood_until_the_persist_queue_is_full(plant: Plant, small_bounds: None) -> None:
    # No datamanager yet: the persist queue fills, the coordinator's publishes are refused.
    sensor = plant.sensor("s1", freq=200)
    gateway = plant.gateway(count=10, freq=20)
    coordinator = plant.coordinator()
    persist = plant.topology.persist_queue
    await until(
        lambda: "persist batch not confirmed" in coordinator.log_text(),
        "the full persist queue to refuse a batch",
        timeout=60,
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
    assert await coordinator.stopped(timeout=30) == 0
    assert "leaving with persist batches unconfirmed" in coordinator.log_text()
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await plant.wait_flowing(500, timeout=60)

    await plant.stop_sources(sensor, gateway)
    report = await plant.audited(reports=11, timeout=90)
    assert_complete(report, sensors=11)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()
