"""Fixtures of the cluster cases: the local three-node cluster of `scripts/cluster`.

The session starts the cluster once, for the first case that asks for it, and stops it at its
end whatever happened, unless a cluster was already running when the session began (then it is
someone's, and is left running, whole). The machine's own broker is never touched: the script
only knows its own nodes (crc1-3@localhost, ports 5681-5683).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from devsupport.cluster import LocalCluster


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
