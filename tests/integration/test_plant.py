"""The plant supervisor restarts a child that dies and stops everything in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

from controlroom.config import Settings
from tests.support import Worker, until, wait_until


def child_pid(plant: Worker, name: str) -> int:
    """The pid of the plant's child whose command line names `name`; 0 if there is none.

    A child that was just killed is a zombie until the plant reaps it, and has no command line
    to read: it is not the child being looked for."""
    for child in psutil.Process(plant.pid).children():
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:  # gone, or a zombie (a subclass)
            continue
        if name in command:
            return child.pid
    return 0


def alive(process: psutil.Process) -> bool:
    """Running, and not a zombie waiting to be reaped (nor gone while we asked)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_a_child_that_dies_is_restarted_and_all_stop_with_the_plant(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    plant = start_worker("plant", "--no-bridge", "--no-sensors", "--no-roles")
    first = await until(lambda: child_pid(plant, "coordinator"), "the coordinator child")
    os.kill(first, signal.SIGKILL)
    second = await until(
        lambda: (pid := child_pid(plant, "coordinator")) and pid != first and pid,
        "the coordinator to be restarted",
        timeout=30,
    )
    assert "coordinator-1 exited with status -9; restarting" in plant.log_text()
    children = psutil.Process(plant.pid).children()
    assert await plant.stopped() == 0
    assert not any(alive(child) for child in children)
    assert second != first


def test_plant_stops_when_its_parent_dies(settings: Settings, tmp_path: Path) -> None:
    """`controlroom up` starts the plant with --exit-with-parent: no orphans if the UI dies."""
    log = tmp_path / "plant.log"
    parent = subprocess.Popen(
        [
            "bash",
            "-c",
            f'"{sys.executable}" -m workers.cli plant --no-bridge --no-sensors --no-roles '
            f'--exit-with-parent > "{log}" 2>&1 & echo $!; wait',
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | settings.as_env(),
    )
    assert parent.stdout is not None
    plant = psutil.Process(int(parent.stdout.readline()))
    try:
        wait_until(lambda: len(plant.children()) == 2, what="the plant's children")
        children = plant.children()
        parent.kill()
        parent.wait()
        wait_until(lambda: not alive(plant), what="plant exit")
        wait_until(
            lambda: not any(alive(child) for child in children),
            what="the plant's children to stop",
        )
        assert "the process that started the plant is gone" in log.read_text()
    finally:
        if plant.is_running():
            plant.kill()
