"""The broker goes away under the bridge (a TCP proxy pulls the cable): clients are told, stay
connected, and the view resumes by itself when the broker is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controlroom.config import Settings
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import Browser, FakeCoordinator, sensor_state
from tests.faults.harness import host_port
from tests.faults.proxy import Proxy


@pytest.fixture
def proxy(settings: Settings) -> Iterator[Proxy]:
    with Proxy(*host_port(settings.amqp_url)) as running:
        yield running


async def test_clients_learn_of_a_broker_outage_and_the_view_resumes(
    coordinator: FakeCoordinator, start_bridge: StartBridge, proxy: Proxy
) -> None:
    await coordinator.announce(sensor_state("before"))
    bridge = await start_bridge("--amqp-url", proxy.url())
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "hello", "data": {"batch": True}})
        await browser.send({"type": "discover"})
        await browser.wait(lambda b: b.of("source"), "the first source")

        await proxy.cut()
        await browser.wait(lambda b: {"connected": False} in b.of("broker"), "the outage")
        # Meanwhile a sensor appears; the bridge cannot hear it.
        await coordinator.announce(sensor_state("during"))
        proxy.restore()
        await browser.wait(
            lambda b: b.of("broker")[-1] == {"connected": True}, "the recovery", timeout=20
        )
        # The snapshot asked for on reconnect brings what was missed; readings flow again.
        await browser.wait(
            lambda b: [s for s in b.of("source") if s["name"] == "during"], "the missed sensor"
        )
        await coordinator.readings({"before": 1.0, "during": 2.0})
        await browser.wait(lambda b: len(b.readings()) == 2, "readings after the outage")
    assert browser.closed_normally(), browser.closed
    assert "broker connection restored" in bridge.worker.log_text()
