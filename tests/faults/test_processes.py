"""kill -9 of each kind of process mid-stream, restarted after a while: nothing lost or doubled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.faults.harness import Plant, assert_complete, logged
from tests.support import until, wait_for

pytestmark = pytest.mark.faults


async def test_kill_datamanager(plant: Plant) -> None:
    load = await plant.steady_load()
    await load.datamanager.killed()
    persist = plant.topology.persist_queue

    async def backlog() -> bool:
        return await plant.queue_depth(persist) >= 5

    await wait_for(backlog, what="a persist backlog while the datamanager is dead")
    load.datamanager = plant.datamanager()
    await plant.wait_flowing(200)
    await plant.ends_clean(load)


async def test_kill_coordinator(plant: Plant) -> None:
    load = await plant.steady_load()
    await load.coordinator.killed()
    readings = plant.topology.readings_queue("s1")

    async def backlog() -> bool:
        return await plant.queue_depth(readings) >= 20

    await wait_for(backlog, what="a readings backlog while the coordinator is dead")
    load.coordinator = plant.coordinator()
    await plant.wait_flowing(200)
    await plant.ends_clean(load)


async def test_kill_sensor(plant: Plant) -> None:
    load = await plant.steady_load()
    await load.sensor.killed()
    readings = plant.topology.readings_queue("s1")

    async def drained() -> bool:
        return await plant.queue_depth(readings) == 0

    await wait_for(drained, what="the killed sensor's queue to drain")
    killed_run = await plant.stored_of("s1")
    assert killed_run > 0
    load.sensor = plant.sensor("s1", freq=50)

    async def resumed() -> bool:
        return await plant.stored_of("s1") >= killed_run + 100

    await wait_for(resumed, what="the restarted sensor's readings")
    # The killed run never said goodbye: its bound is its highest stored seq; the new run and
    # the gateway say goodbye.
    report = await plant.ends_clean(load)
    s1_runs = [run for run in report.runs if run.sensor == "s1"]
    assert len(s1_runs) == 2
    assert sorted(run.confirmed_seq is None for run in s1_runs) == [False, True]


async def test_readings_queue_deleted(plant: Plant) -> None:
    """Someone deletes a source's queue (and what was in it): the sensor declares it again, and
    nothing it publishes afterwards is lost."""
    sensor = plant.sensor("s1", freq=50)
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await plant.wait_flowing(100)
    # Without a consumer on it, nothing else declares the queue again behind the sensor's back.
    assert await coordinator.stopped(timeout=30) == 0

    await plant.delete_queue(plant.topology.readings_queue("s1"))
    deleted_at = datetime.now(UTC)
    await until(logged(sensor, "declared it again"), "the sensor to declare its queue again")
    before = await plant.stored_of("s1")
    coordinator = plant.coordinator()

    async def resumed() -> bool:
        return await plant.stored_of("s1") >= before + 100

    await wait_for(resumed, what="readings stored after the queue came back")
    await plant.stop_sources(sensor)
    report = await plant.audited(reports=1, since=deleted_at + timedelta(seconds=1))
    assert_complete(report, sensors=1)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


async def test_persist_queue_deleted(plant: Plant) -> None:
    """The same for the persist queue: the coordinator declares it again and retries."""
    sensor = plant.sensor("s1", freq=50)
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    await plant.wait_flowing(100)
    assert await datamanager.stopped(timeout=30) == 0

    await plant.delete_queue(plant.topology.persist_queue)
    deleted_at = datetime.now(UTC)
    await until(
        logged(coordinator, "declared it again"), "the coordinator to declare persist again"
    )
    datamanager = plant.datamanager()
    await plant.wait_flowing(100)
    await plant.stop_sources(sensor)
    report = await plant.audited(reports=1, since=deleted_at + timedelta(seconds=1))
    assert_complete(report, sensors=1)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()
