"""Fixtures for the bridge: a bridge worker on a free port, a fake coordinator, an output folder."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from controlroom.config import Settings
from tests.bridge.fakes import FakeCoordinator
from tests.support import Worker, wait_for

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (https?)://([^/]+)/")


@dataclass
class RunningBridge:
    worker: Worker
    address: str  # host:port
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}/"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.address}/ws"


# The `start_bridge` fixture: `await start_bridge(*args)` for a bridge that listens.
StartBridge = Callable[..., Awaitable[RunningBridge]]


@pytest.fixture
def start_bridge(start_worker: Callable[..., Worker]) -> StartBridge:
    """Start `controlroom-worker bridge --port 0 ARGS...` (with `env`, under a role's URL
    files, say); await it for a RunningBridge."""

    async def start(*args: str, env: dict[str, str] | None = None) -> RunningBridge:
        worker = start_worker(
            "bridge", *(args if "--port" in args else ("--port", "0", *args)), env=env
        )

        async def listening() -> tuple[str, str] | None:
            if not worker.running():
                raise AssertionError(f"the bridge exited:\n{worker.log_text()}")
            found = LISTENING.search(worker.log_text())
            return (found.group(1), found.group(2)) if found else None

        scheme, address = await wait_for(listening, timeout=20, what="the bridge to listen")
        return RunningBridge(worker, address, scheme)

    return start


@pytest.fixture
async def coordinator(settings: Settings) -> AsyncIterator[FakeCoordinator]:
    fake = FakeCoordinator(settings)
    async with fake.running():
        yield fake


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test leaves artefacts a person may want to look at (screenshots)."""
    base = Path(os.environ.get("CONTROLROOM_TEST_OUTPUT", ROOT / "test-output"))
    folder = base / "bridge" / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
