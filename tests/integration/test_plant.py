"""The plant supervisor restarts a child that dies and stops everything in order."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import psutil

from controlroom.config import Settings
from tests.support import Worker, wait_until


def child_pid(plant: Worker, name: str) -> int | None:
    for child in psutil.Process(plant.pid).children():
        if name in " ".join(child.cmdline()):
            return child.pid
    return None


async def test_a_child_that_dies_is_restarted_and_all_stop_with_the_plant(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    plant = start_worker("plant", "--no-bridge", "--no-sensors")
    first = wait_until(lambda: child_pid(plant, "coordinator"), what="the coordinator child")
    os.kill(first, signal.SIGKILL)
    second = wait_until(
        lambda: (pid := child_pid(plant, "coordinator")) and pid != first and pid,
        timeout=30,
        what="the coordinator to be restarted",
    )
    assert "coordinator-1 exited with status -9; restarting" in plant.log()
    children = psutil.Process(plant.pid).children()
    assert plant.stop() == 0
    assert not any(child.is_running() and child.status() != "zombie" for child in children)
    assert second != first
