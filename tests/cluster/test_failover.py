"""Every worker takes the cluster's addresses and moves to another node when its node goes.

A plant runs on the local cluster; the coordinator and the datamanager are given nodes 2 and 3
only, so the node they start on is known to be one of those, and stopping it leaves node 1
(where the plant's queues were declared first: as quorum queues by the rule they would survive
anyway, but the case must hold for classic queues too) and the other one. Each must log the
loss, reconnect to the node left within seconds, and the plant must end with a clean audit.
"""

from __future__ import annotations

import re

import aio_pika
import pytest

from controlroom.broker.topology import Topology
from devsupport.cluster import LocalCluster
from tests.faults.harness import Plant, SteadyLoad, wait_logged
from tests.support import Worker

pytestmark = pytest.mark.cluster

ADDRESS = re.compile(r"at amqp://guest:\*\*\*@127\.0\.0\.1:568([1-3])/")


def node_of(worker: Worker, event: str) -> int | None:
    """The node number of the latest `event` line ("connected to the broker at ...")."""
    lines = [line for line in worker.log_text().splitlines() if event in line]
    found = ADDRESS.search(lines[-1]) if lines else None
    return int(found.group(1)) if found else None


async def declare_on(url: str, plant: Plant, *sources: str) -> None:
    """Declare the plant's durable queues through one node: a classic one would live there."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        topology = Topology.of(plant.settings)
        await topology.persist(channel)
        for source in sources:
            await topology.readings(channel, source)
    finally:
        await connection.close()


@pytest.mark.parametrize("role", ["coordinator", "datamanager"])
async def test_a_worker_moves_on_when_its_node_stops(
    cluster: LocalCluster, plant: Plant, role: str
) -> None:
    urls = await cluster.urls()
    assert len(urls) == 3
    await declare_on(urls[0], plant, "s1", "g-gateway")
    only_two_and_three = ",".join(urls[1:])
    load = SteadyLoad(
        plant.sensor("s1", freq=50),
        plant.gateway(count=4, freq=25),
        plant.coordinator(amqp_url=only_two_and_three),
        plant.datamanager(amqp_url=only_two_and_three),
    )
    worker = load.coordinator if role == "coordinator" else load.datamanager
    await plant.wait_flowing(200)
    node = node_of(worker, "connected to the broker at")
    assert node in (2, 3), worker.log_text()[-2000:]

    await cluster.stop_node(node)
    await wait_logged(worker, "broker connection lost at", what=f"the {role} to lose crc{node}")
    await wait_logged(
        worker, "broker connection restored at", timeout=30, what=f"the {role} to move on"
    )
    moved_to = node_of(worker, "broker connection restored at")
    assert moved_to == 5 - node, f"the {role} went to crc{moved_to}, not to the node left"
    await plant.wait_flowing(200, timeout=45)

    await cluster.start_node(node)
    assert node in await cluster.running_members(via=1)
    await plant.ends_clean(load)
