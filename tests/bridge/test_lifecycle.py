"""Starting and stopping: clean exits, and user mistakes as one line with status 2."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable

from controlroom.config import Settings
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import Browser
from tests.support import Worker


def run_bridge(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "bridge", *args],
        env=settings.as_env() | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def test_sigterm_closes_clients_with_going_away_and_exits_0(
    start_bridge: StartBridge,
) -> None:
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        # In a thread: the client must stay free to answer the closing handshake.
        assert await asyncio.to_thread(bridge.worker.stop) == 0
        closed = await browser.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 1001
    assert "stopped" in bridge.worker.log_text()
    assert "Traceback" not in bridge.worker.log_text()


async def test_mistakes_are_one_line_and_status_2(
    settings: Settings, start_bridge: StartBridge, start_worker: Callable[..., Worker]
) -> None:
    bridge = await start_bridge()
    port = bridge.address.rpartition(":")[2]
    cases = {
        ("--port", port): "cannot listen on 127.0.0.1:" + port,
        ("--allow-origin", "example.org"): "--allow-origin 'example.org' must look like",
        ("--port", "70000"): "--port 70000 is not a TCP port",
        ("--max-frame", "10"): "--max-frame must be at least 256",
        ("--max-rate-per-sensor", "0"): "--max-rate-per-sensor must be between 0.1 and 1000 Hz",
    }
    for args, message in cases.items():
        result = await asyncio.to_thread(run_bridge, settings, *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert message in lines[-1], (args, result.stderr)
        assert "Traceback" not in result.stderr
