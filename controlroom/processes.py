"""Worker processes: one way to start a `controlroom-worker` child and to stop it.

The plant supervisor, the control room (sensors it spawns, the plant under `up`), the
benchmarks and the tests all start workers the same way: `python -m workers.cli ARGS` (or
another module), with the plant's settings in the environment, output to a log file, and in a
session of its own so a Ctrl-C in the starter's terminal is the starter's to handle. Stopping
is SIGTERM (a worker flushes and says goodbye), then SIGKILL if it overstays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from controlroom.config import Settings
from controlroom.waiting import within

log = logging.getLogger(__name__)

# The contract between a starter and a worker: on SIGTERM a worker finishes what it holds
# (a sensor flushes and says goodbye, a coordinator waits for its confirms, a datamanager
# commits) within DRAIN_TIMEOUT_S; a starter waits STOP_TIMEOUT_S before it kills.
DRAIN_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = DRAIN_TIMEOUT_S + 15.0
_POLL_S = 0.1


def safe_file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80] or "worker"


class WorkerProcess:
    """One child process and its log file."""

    def __init__(
        self,
        args: Sequence[str],
        settings: Settings,
        log_path: Path | None,
        *,
        label: str | None = None,
        module: str = "workers.cli",
        env: Mapping[str, str] | None = None,
        new_session: bool = True,
    ) -> None:
        self.args = list(args)
        self.label = label or (self.args[0] if self.args else module)
        self.log_path = log_path
        environment = os.environ | settings.as_env() | {"PYTHONUNBUFFERED": "1"} | dict(env or {})
        with contextlib.ExitStack() as closing:
            output = None  # without a log file, the output is the starter's
            if log_path is not None:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                output = closing.enter_context(log_path.open("ab"))
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT if output is not None else None,
                env=environment,
                start_new_session=new_session,
            )

    def __repr__(self) -> str:
        return f"{self.label} (pid {self.pid})"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def running(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def last_log_line(self) -> str:
        lines = self.log_text().strip().splitlines()
        return lines[-1] if lines else ""

    def signal(self, signum: int) -> None:
        if self.running():
            self.process.send_signal(signum)

    def terminate(self) -> None:
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        self.signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, then SIGKILL if it does not leave in time; blocking. Its exit status."""
        self.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored SIGTERM for %.0f s; killing it", self, timeout)
            self.kill()
            return self.process.wait()

    async def wait(self, timeout: float | None = None) -> int | None:
        """Its exit status once it has ended, or None after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ended = asyncio.Event()
        loop = asyncio.get_running_loop()
        with _exit_signal(self.pid, loop, ended):
            while self.process.poll() is None:
                wait_s = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
                if wait_s <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await within(ended.wait(), wait_s)
        return self.process.returncode

    async def stopped(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """`stop` for async code: SIGTERM, wait, SIGKILL if it overstays."""
        self.terminate()
        status = await self.wait(timeout)
        if status is None:
            log.warning("%s ignored SIGTERM for %.0f s; killing it", self, timeout)
            status = await self.killed()
        return status

    async def killed(self) -> int:
        """`kill` for async code: SIGKILL, and its exit status once it is reaped."""
        self.signal(signal.SIGKILL)
        await self.wait()
        return self.process.wait()  # reaped by `wait` already: at once


@contextlib.contextmanager
def _exit_signal(pid: int, loop: asyncio.AbstractEventLoop, ended: asyncio.Event) -> Iterator[None]:
    """Set `ended` as soon as the process exits (a pidfd on Linux); polling covers the rest."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or already reaped
        yield
        return
    try:
        loop.add_reader(fd, ended.set)
        try:
            yield
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)


class ProcessGroup:
    """The processes one session started, and only those: each logs to LOG_DIR/LABEL.log."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self._settings = settings
        self.log_dir = log_dir
        self.processes: list[WorkerProcess] = []
        self._reported: set[int] = set()

    def start(
        self, label: str, args: Sequence[str], settings: Settings | None = None
    ) -> WorkerProcess:
        """Start `controlroom-worker ARGS...`."""
        log_path = self.log_dir / f"{safe_file_name(label)}.log"
        process = WorkerProcess(args, settings or self._settings, log_path, label=label)
        self.processes.append(process)
        log.info("started %s: %s; log %s", process, " ".join(args), log_path)
        return process

    def running(self) -> list[WorkerProcess]:
        return [process for process in self.processes if process.running()]

    def exited(self) -> list[WorkerProcess]:
        """Processes that ended since the last call."""
        ended = [
            process
            for process in self.processes
            if process.pid not in self._reported and not process.running()
        ]
        self._reported.update(process.pid for process in ended)
        return ended

    def stop_all(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM to all (newest first), then wait for each; blocking, so call it in a thread."""
        running = list(reversed(self.running()))
        for process in running:
            process.terminate()
        for process in running:
            status = process.stop(timeout)
            log.info("%s stopped with status %d", process, status)
