"""Fixtures of the fault cases: a plant, and the services put back whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from controlroom.config import Settings
from tests.conftest import TEST_AMQP_URL, TEST_DATABASE_URL
from tests.faults.harness import Broker, Database, Plant, host_port
from tests.faults.proxy import Proxy
from tests.support import Worker

# Other suites on this machine stop and start the services for their own fault cases (and
# restart them at once). A case waits for both to answer before it builds its plant; a service
# still down after that wait was abandoned by someone, and is started.
SERVICE_WAIT_S = 60.0


@pytest.fixture(autouse=True)
async def _services_up() -> None:
    broker = Broker(TEST_AMQP_URL)
    if not await broker.wait_running(SERVICE_WAIT_S):
        await broker.start()
    database = Database(TEST_DATABASE_URL)
    if not await database.wait_running(SERVICE_WAIT_S):
        await database.ensure_running()


@pytest.fixture
async def plant(settings: Settings, start_worker: Callable[..., Worker]) -> AsyncIterator[Plant]:
    running = Plant(settings, start_worker)
    try:
        yield running
    finally:
        await running.close()


# The service fixtures depend on `plant`, so they are torn down first: the services are back
# before the workers are stopped and the plant's queues and schema are removed.


@pytest.fixture
async def broker(plant: Plant) -> AsyncIterator[Broker]:
    """RabbitMQ, started again and answering at teardown even if the case failed half-way."""
    control = Broker(plant.settings.amqp_url)
    try:
        yield control
    finally:
        if control.stopped:
            await control.start()


@pytest.fixture
async def database(plant: Plant) -> AsyncIterator[Database]:
    """PostgreSQL, running and answering at teardown even if the case failed half-way."""
    control = Database(plant.settings.database_url)
    try:
        yield control
    finally:
        await control.ensure_running()


@pytest.fixture
def proxy(settings: Settings) -> Iterator[Proxy]:
    """A TCP proxy to the broker, for one worker to talk through."""
    with Proxy(*host_port(settings.amqp_url)) as running:
        yield running
