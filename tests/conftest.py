"""Fixtures: every test gets its own plant namespace (queue prefix and database schema)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings

from controlroom.broker.topology import Topology
from controlroom.config import Settings
from controlroom.db import connect, ensure_database, migrate
from controlroom.db.migrations import drop_plant
from controlroom.provision import Plan, init_roles, remove_roles
from controlroom.roles import SecretsDir
from tests.support import (
    TEST_PLANT_PREFIX,
    PlantRoles,
    Worker,
    delete_plant_topology,
    list_queues,
)

TEST_DATABASE_URL = os.environ.get(
    "CONTROLROOM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/controlroom_test"
)
TEST_AMQP_URL = os.environ.get("CONTROLROOM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

# Property tests check what code decides, never how fast: the machine is shared, and a
# per-example deadline only measures the neighbours (speed is the bench's to show).
hypothesis_settings.register_profile("controlroom", deadline=None)
hypothesis_settings.load_profile("controlroom")


# Plants made by this test session: only their queues are swept at its end. Other sessions
# (other developers, other suites) share the broker, and their plants are still running.
_session_plants: set[str] = set()


def new_plant_settings() -> Settings:
    settings = Settings(
        amqp_urls=(TEST_AMQP_URL,),
        database_url=TEST_DATABASE_URL,
        plant=f"{TEST_PLANT_PREFIX}{secrets.token_hex(5)}",
    )
    _session_plants.add(settings.plant)
    return settings


@pytest.fixture(scope="session", autouse=True)
def _secrets_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A plant started with roles and no --secrets-dir writes under the session's temporary
    directory, never into /etc or the user's configuration (children inherit it)."""
    os.environ["CONTROLROOM_SECRETS_DIR"] = str(tmp_path_factory.mktemp("secrets"))


@pytest.fixture(scope="session", autouse=True)
def _test_database() -> None:
    """The test database exists before any case runs (a fresh machine has none)."""
    asyncio.run(ensure_database(Settings((TEST_AMQP_URL,), TEST_DATABASE_URL, "t_setup")))


@pytest.fixture(scope="session", autouse=True)
def _remove_leftover_test_queues() -> Iterator[None]:
    """Durable per-source queues outlive a test; sweep this session's once, at its end."""
    yield
    if not _session_plants:
        return
    names = [
        name for name in list_queues(TEST_PLANT_PREFIX) if name.partition(".")[0] in _session_plants
    ]
    if names:
        asyncio.run(_delete_queues(names))


async def _delete_queues(names: list[str]) -> None:
    connection = await aio_pika.connect(TEST_AMQP_URL)
    try:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(name)
    finally:
        await connection.close()


@pytest.fixture
async def settings() -> AsyncIterator[Settings]:
    """A fresh plant: its own namespace on the broker and its own migrated schema."""
    plant = new_plant_settings()
    await ensure_database(plant)
    await migrate(plant)
    try:
        yield plant
    finally:
        await drop_plant(plant)
        await delete_plant_topology(plant)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(settings)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start `controlroom-worker ARGS...` in this test's plant; stopped at teardown."""
    workers: list[Worker] = []

    def start(*args: str, log_name: str | None = None, env: dict[str, str] | None = None) -> Worker:
        name = log_name or f"{args[0]}-{len(workers)}"
        worker = Worker(args, settings, tmp_path / f"{name}.log", label=name, env=env)
        workers.append(worker)
        return worker

    yield start
    for worker in reversed(workers):
        worker.stop()


# Operators every roles fixture makes besides the fixed roles.
TEST_OPERATORS = ("ann", "bob")
TEST_SOURCES = ("s1",)  # sources with a login of their own (`sensor-s1`)


@pytest.fixture
async def roles(settings: Settings, tmp_path: Path) -> AsyncIterator[PlantRoles]:
    """This test's plant with its roles made by `broker init` (users are global to the broker,
    so they are named after the plant, and removed at teardown)."""
    secrets = SecretsDir(tmp_path / "secrets")
    try:
        await init_roles(settings, Plan(secrets, add_operators=TEST_OPERATORS))
        yield PlantRoles(settings, secrets)
    finally:
        await remove_roles(settings, secrets)


@pytest.fixture(scope="module")
def shared_roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantRoles]:
    """One plant with its roles for a whole module (making roles costs seconds: rabbitmqctl
    runs an Erlang node per call), for tests that only read it or that clean up after them."""
    plant = new_plant_settings()
    secrets = SecretsDir(tmp_path_factory.mktemp("secrets"))

    async def make() -> None:
        await ensure_database(plant)
        await migrate(plant)
        await init_roles(
            plant, Plan(secrets, add_operators=TEST_OPERATORS, add_sources=TEST_SOURCES)
        )
        connection = await aio_pika.connect(plant.amqp_url)
        async with connection:  # their readings queues, as a source's first start makes them
            channel = await connection.channel()
            for source in TEST_SOURCES:
                await Topology.of(plant).readings(channel, source)

    async def remove() -> None:
        await remove_roles(plant, secrets)
        await drop_plant(plant)
        topology = Topology.of(plant)
        await delete_plant_topology(plant, [topology.readings_queue(s) for s in TEST_SOURCES])

    try:
        asyncio.run(make())
        yield PlantRoles(plant, secrets)
    finally:
        asyncio.run(remove())
