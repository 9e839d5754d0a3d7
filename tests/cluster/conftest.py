"""Fixtures of the cluster cases: the local three-node cluster of `scripts/cluster`.

The session starts the cluster once, for the first case that asks for it, and stops it at its
end whatever happened, unless a cluster was already running when the session began (then it is
someone's, and is left running, whole). The machine's own broker is never touched: the script
only knows its own nodes (crc1-3@localhost, ports 5681-5683).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from controlroom.config import Settings
from controlroom.db import ensure_database, migrate
from controlroom.db.migrations import drop_plant
from devsupport.cluster import LocalCluster
from tests.conftest import new_plant_settings
from tests.faults.harness import Plant
from tests.support import Worker, delete_plant_topology


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster()
    borrowed = bool(asyncio.run(cluster.urls()))
    try:
        asyncio.run(cluster.start())
        yield cluster
    finally:
        if not borrowed:
            asyncio.run(cluster.stop())


@pytest.fixture
async def cluster(local_cluster: LocalCluster) -> AsyncIterator[LocalCluster]:
    """The cluster whole before a case, and made whole again after it (cases stop nodes)."""
    await local_cluster.start()
    yield local_cluster
    await local_cluster.start()


@pytest.fixture
async def settings(cluster: LocalCluster) -> AsyncIterator[Settings]:
    """A fresh plant on the cluster: every node's address, its own migrated schema.

    It replaces the suite's `settings` here, so `start_worker` runs workers on the cluster."""
    plant = dataclasses.replace(new_plant_settings(), amqp_urls=tuple(await cluster.urls()))
    assert plant.clustered
    await ensure_database(plant)
    await migrate(plant)
    try:
        yield plant
    finally:
        await drop_plant(plant)
        await cluster.start()  # a case may end with a node down; the queues live on
        await delete_cluster_queues(cluster, plant)


@pytest.fixture
async def plant(settings: Settings, start_worker: Callable[..., Worker]) -> AsyncIterator[Plant]:
    running = Plant(settings, start_worker)
    try:
        yield running
    finally:
        await running.close()


async def delete_cluster_queues(cluster: LocalCluster, settings: Settings) -> None:
    """Every queue and exchange of the plant on the cluster (the session sweep knows only the
    machine's broker)."""
    listed = await cluster.ctl(1, "list_queues", "name", "--no-table-headers")
    names = [line.strip() for line in listed.splitlines()]
    mine = [name for name in names if name.partition(".")[0] == settings.plant]
    await delete_plant_topology(settings, mine)
