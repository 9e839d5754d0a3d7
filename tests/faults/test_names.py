"""A sensor cut off from the broker loses its name's claim; if another process takes the name
meanwhile, the first one learns it on reconnecting and stops, in one line, without a goodbye."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controlroom.commandline import EXIT_USAGE
from controlroom.config import Settings
from tests.faults.harness import logged
from tests.faults.proxy import Proxy
from tests.integration.test_names import WALK, held, wait_held
from tests.support import Worker, until, wait_for

pytestmark = pytest.mark.faults


async def test_a_name_taken_during_an_outage_stops_the_sensor_that_had_it(
    proxy: Proxy, settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    first = start_worker("sensor", "--name", "twin", *WALK, "--amqp-url", proxy.url())
    await wait_held(settings, "twin")
    await until(logged(first, "publishing 1 sensors"), "the first sensor publishing")

    await proxy.cut()  # the broker sees its connection end: the claim goes with it

    async def free() -> bool:
        return await held(settings, "twin") == []

    await wait_for(free, what="the claim gone with the connection")
    second = start_worker("sensor", "--name", "twin", *WALK)
    await wait_held(settings, "twin")
    proxy.restore()

    assert await first.wait(timeout=60) == EXIT_USAGE, first.log_text()
    last = first.log_text().strip().splitlines()[-1]
    assert last.startswith(
        "controlroom-worker sensor: error: after reconnecting: the name 'twin' is taken"
    ), last
    assert "without a goodbye" in last
    assert "said goodbye" not in first.log_text()
    assert second.running(), "the one that holds the name now goes on"
    assert "Traceback" not in first.log_text()
