"""PostgreSQL stopped and restarted while the datamanager is writing: it waits and resumes."""

from __future__ import annotations

import pytest

from tests.faults.harness import Database, Plant, wait_logged
from tests.support import wait_for

pytestmark = pytest.mark.faults


async def test_database_restarted_while_writing(plant: Plant, database: Database) -> None:
    load = await plant.steady_load()
    datamanager = load.datamanager
    await database.stop()
    await wait_logged(
        datamanager, "database unavailable", what="the datamanager to notice PostgreSQL is gone"
    )
    persist = plant.topology.persist_queue

    async def backlog() -> bool:
        return await plant.queue_depth(persist) >= 5

    await wait_for(backlog, what="a persist backlog while PostgreSQL is down")
    await database.ensure_running()
    await wait_logged(
        datamanager, "database back", timeout=30, what="the datamanager to write again"
    )
    await plant.wait_flowing(200)
    await plant.ends_clean(load)
