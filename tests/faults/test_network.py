"""A network cut and a slow network between one worker and the broker, through a test proxy."""

from __future__ import annotations

import signal

import pytest

from tests.faults.harness import Plant, assert_complete, logged
from tests.faults.proxy import Proxy
from tests.support import Worker, until, wait_for

pytestmark = pytest.mark.faults

ROLES = ["sensor", "coordinator", "datamanager"]

# The `proxy` fixture comes before `plant` in each case: it is torn down after the workers stop.


def start_plant(plant: Plant, behind_proxy: str, proxy_url: str) -> tuple[Worker, ...]:
    """A sensor, a gateway, a coordinator and a datamanager; one of them talks via the proxy."""

    def url(role: str) -> str | None:
        return proxy_url if role == behind_proxy else None

    sensor = plant.sensor("s1", freq=50, amqp_url=url("sensor"))
    gateway = plant.gateway(count=4, freq=25)
    coordinator = plant.coordinator(amqp_url=url("coordinator"))
    datamanager = plant.datamanager(amqp_url=url("datamanager"))
    return sensor, gateway, coordinator, datamanager


@pytest.mark.parametrize("role", ROLES)
async def test_network_cut(proxy: Proxy, plant: Plant, role: str) -> None:
    sensor, gateway, coordinator, datamanager = start_plant(plant, role, proxy.url())
    behind = {"sensor": sensor, "coordinator": coordinator, "datamanager": datamanager}[role]
    await plant.wait_flowing(200)
    assert proxy.connections >= 1

    await proxy.cut()
    # Lost, and at least one reconnect attempt refused: the cable stays out a while.
    await until(logged(behind, "broker connection lost"), f"the {role} to lose the broker")
    await until(lambda: proxy.refused >= 1, f"the {role} to try to reconnect")
    proxy.restore()
    await until(
        logged(behind, "broker connection restored"), f"the {role} to reconnect", timeout=30
    )
    await plant.wait_flowing(200, timeout=45)

    await plant.stop_sources(sensor, gateway)
    report = await plant.audited(reports=5)
    assert_complete(report, sensors=5)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


@pytest.mark.parametrize("role", ROLES)
async def test_slow_network(proxy: Proxy, plant: Plant, role: str) -> None:
    proxy.latency = 0.2  # seconds each way: a confirm takes at least 0.4 s
    proxy.rate = 64 * 1024  # bytes per second each way
    sensor, gateway, coordinator, datamanager = start_plant(plant, role, proxy.url())
    await plant.wait_flowing(400, timeout=60)
    assert proxy.connections >= 1, "the worker talks to the broker through the slow proxy"

    proxy.latency = 0.0
    proxy.rate = None
    await plant.stop_sources(sensor, gateway)
    report = await plant.audited(reports=5)
    assert_complete(report, sensors=5)
    plant.assert_alive(coordinator, datamanager)
    plant.assert_no_tracebacks()


async def test_every_process_stops_while_cut_off(proxy: Proxy, plant: Plant) -> None:
    """SIGTERM during a cut: each process leaves in bounded time, and nothing confirmed is lost."""
    sensor = plant.sensor("s1", freq=50, amqp_url=proxy.url())
    coordinator = plant.coordinator(amqp_url=proxy.url())
    datamanager = plant.datamanager(amqp_url=proxy.url())
    await plant.wait_flowing(100)

    await proxy.cut()
    for worker in (sensor, coordinator, datamanager):
        await until(logged(worker, "broker connection lost"), "the cut to be noticed")
    for worker in (sensor, coordinator, datamanager):
        worker.signal(signal.SIGTERM)
    for worker in (sensor, coordinator, datamanager):
        status = await worker.stopped(timeout=30)
        assert status == 0, f"{worker.args[0]} exited with {status}:\n{worker.log_text()[-2000:]}"

    # Successors on a good network take over what the broker kept; the sensor's run never said
    # goodbye, so the audit checks it up to its highest stored seq.
    coordinator = plant.coordinator()
    datamanager = plant.datamanager()
    gateway = plant.gateway(count=2, freq=20)

    async def gateway_stored() -> bool:
        return await plant.stored_of("g-1") >= 20

    await wait_for(gateway_stored, what="the new gateway's readings")
    await plant.stop_sources(gateway)
    report = await plant.audited(reports=2)
    assert_complete(report, sensors=3)
    plant.assert_no_tracebacks()
