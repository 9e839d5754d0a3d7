"""Fixtures of the TLS cases: a broker node and a PostgreSQL instance of this session's own, both
TLS-only, with certificates made by trustme (`devsupport.tlsservices`).

They start once, for the first case that asks, and stop at the session's end whatever
happened; the machine's own services are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from controlroom.config import Settings
from controlroom.db import ensure_database, migrate
from controlroom.db.migrations import drop_plant
from devsupport.tlsservices import TlsServices, tls_services
from tests.conftest import new_plant_settings


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServices]:
    directory: Path = tmp_path_factory.mktemp("tls")
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner())
        services = tls_services(directory)  # a node name and ports no one else uses
        started = runner.run(services.__aenter__())
        stack.callback(lambda: runner.run(services.__aexit__(None, None, None)))
        yield started


@pytest.fixture
async def settings(tls: TlsServices) -> AsyncIterator[Settings]:
    """A fresh plant on the TLS services (it replaces the suite's `settings`, so
    `start_worker` runs workers over TLS to both)."""
    plant = tls.settings(new_plant_settings())
    await ensure_database(plant)
    await migrate(plant)
    try:
        yield plant
    finally:
        await drop_plant(plant)
