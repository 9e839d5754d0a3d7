"""Worker processes this control room started: spawned sensors, and the plant under `up`.

Each child writes its log to a file (the terminal belongs to the UI) and gets the control
room's own connection settings through the environment. The control room stops what it
started, and only that.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controlroom.config import Settings

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


def worker_command() -> list[str]:
    """`controlroom-worker` beside this Python (a venv's bin), else the module itself."""
    script = Path(sys.executable).with_name("controlroom-worker")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "workers.cli"]


def safe_file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80] or "worker"


@dataclass
class Child:
    """One worker process and its log file."""

    label: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes]
    reported: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def terminate(self) -> None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; SIGKILL if it overstays."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM; killing it", self.label, self.pid)
            self.process.kill()
            return self.process.wait()


class Children:
    """The processes one control room session started."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self._settings = settings
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(self, label: str, args: Sequence[str]) -> Child:
        """Start `controlroom-worker ARGS...` with its output in LOG_DIR/<label>.log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{safe_file_name(label)}.log"
        env = os.environ | self._settings.as_env() | {"PYTHONUNBUFFERED": "1"}
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                [*worker_command(), *args],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C in the UI's terminal is the UI's, not theirs
            )
        child = Child(label, list(args), log_path, process)
        self.children.append(child)
        log.info("started %s (pid %d): %s; log %s", label, child.pid, " ".join(args), log_path)
        return child

    def running(self) -> list[Child]:
        return [child for child in self.children if child.running()]

    def exited(self) -> list[Child]:
        """Children that ended since the last call."""
        ended = [c for c in self.children if not c.reported and not c.running()]
        for child in ended:
            child.reported = True
        return ended

    def stop_all(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM to all (newest first), then wait for each; blocking, so call it in a thread."""
        running = list(reversed(self.running()))
        for child in running:
            child.terminate()
        for child in running:
            status = child.wait(timeout)
            log.info("%s (pid %d) stopped with status %d", child.label, child.pid, status)
