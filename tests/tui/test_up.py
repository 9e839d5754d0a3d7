"""`controlroom up` in a real pseudo-terminal: the plant starts, the UI shows it, `q` stops both."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from controlroom.config import Settings
from controlroom.provision import remove_roles
from controlroom.roles import SecretsDir
from controlroom.up import operator_for_user
from tests.support import Worker, wait_until

log = logging.getLogger(__name__)


class Terminal:
    """A pty whose output a thread keeps reading, so the app never blocks on a full buffer."""

    def __init__(self, columns: int = 100, rows: int = 30) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


def start_up(
    settings: Settings, terminal: Terminal, log_dir: Path, *roles: str
) -> subprocess.Popen[bytes]:
    """`controlroom up` without roles (guest), unless `roles` says where its secrets go."""
    env = os.environ | settings.as_env() | {"TERM": "xterm-256color"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "controlroom.cli",
            "up",
            "--no-bridge",
            *(roles or ["--no-roles"]),
            "--log-dir",
            str(log_dir),
        ],
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        env=env,
        start_new_session=True,
    )


def plant_logins(plant: str) -> set[str]:
    """The broker logins of this plant's connections (each names its plant)."""
    result = subprocess.run(
        ["rabbitmqctl", "list_connections", "user", "client_properties", "-q",
         "--no-table-headers"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return {line.split("\t")[0] for line in result.stdout.splitlines() if f"({plant})" in line}


@pytest.mark.parametrize("with_roles", [False, True], ids=["guest", "roles"])
def test_up_starts_the_plant_and_quitting_stops_it(
    settings: Settings, tmp_path: Path, with_roles: bool
) -> None:
    """With roles (the default) `up` makes them first, runs each child under its own and the
    control room as an operator named after the machine's user; never as guest."""
    terminal = Terminal()
    secrets = SecretsDir(tmp_path / "secrets")
    roles = ("--secrets-dir", str(secrets.path)) if with_roles else ()
    process = start_up(settings, terminal, tmp_path, *roles)
    log_file = tmp_path / "controlroom.log"
    try:

        def plant_pid() -> int | None:
            text = log_file.read_text() if log_file.exists() else ""
            found = re.search(r"started plant \(pid (\d+)\)", text)
            return int(found[1]) if found else None

        plant = psutil.Process(wait_until(plant_pid, timeout=30, what="the plant started"))
        wait_until(
            lambda: b"turbine_temp_out" in terminal.output, timeout=60, what="the sensors shown"
        )
        wait_until(
            lambda: b"NORMAL" in terminal.output or b"HIGH" in terminal.output,
            timeout=60,
            what="a live state on the screen",
        )
        if with_roles:
            me = operator_for_user()
            expected = {f"{settings.plant}.{role}" for role in ("sensor", "coordinator", me)}
            wait_until(
                lambda: expected <= plant_logins(settings.plant), timeout=30, what="role logins"
            )
            logins = plant_logins(settings.plant)
            assert all(login.startswith(f"{settings.plant}.") for login in logins), logins
        terminal.type("q")
        assert process.wait(timeout=60) == 0
        wait_until(
            lambda: not plant.is_running() or plant.status() == psutil.STATUS_ZOMBIE,
            timeout=30,
            what="the plant gone",
        )
        assert b"stopping the plant" in terminal.output
    except AssertionError:
        # What the operator would have seen, and what the control room logged.
        log.error("terminal output (tail): %r", bytes(terminal.output[-3000:]))
        log.error("controlroom.log:\n%s", log_file.read_text() if log_file.exists() else "-")
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        terminal.close()
        if with_roles:
            asyncio.run(remove_roles(settings, secrets))


def test_up_on_a_running_plant_joins_it(
    settings: Settings, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    """A second `up` (another operator, a forgotten terminal) starts no second plant: it says
    so in one line and shows the running one; quitting it leaves that plant alone."""
    coordinator = start_worker("coordinator")
    gateway = start_worker("sensors", "--preset", "plant")
    wait_until(
        lambda: "announced 6 sensors" in gateway.log_text(), timeout=60, what="the plant running"
    )
    terminal = Terminal()
    log_dir = tmp_path / "second"
    process = start_up(settings, terminal, log_dir)
    log_file = log_dir / "controlroom.log"
    try:
        wait_until(
            lambda: b"is running already" in terminal.output, timeout=60, what="the one line"
        )
        wait_until(
            lambda: b"turbine_temp_out" in terminal.output, timeout=60, what="the sensors shown"
        )
        terminal.type("q")
        assert process.wait(timeout=60) == 0
        text = log_file.read_text()
        assert "started plant" not in text and "started db-init" not in text, text
        assert not (log_dir / "plant.log").exists(), "no second plant"
        assert coordinator.running() and gateway.running(), "the running plant is left alone"
        assert b"stopping the plant" not in terminal.output
    except AssertionError:
        log.error("terminal output (tail): %r", bytes(terminal.output[-3000:]))
        log.error("controlroom.log:\n%s", log_file.read_text() if log_file.exists() else "-")
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        terminal.close()
