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

from controlroom.config import Settings
from controlroom.db import connect, ensure_database, migrate
from controlroom.db.migrations import drop_plant
from tests.support import TEST_PLANT_PREFIX, Worker, delete_plant_topology, list_queues

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

    def start(*args: str, log_name: str | None = None) -> Worker:
        name = log_name or f"{args[0]}-{len(workers)}"
        worker = Worker(args, settings, tmp_path / f"{name}.log", label=name)
        workers.append(worker)
        return worker

    yield start
    for worker in reversed(workers):
        worker.stop()
