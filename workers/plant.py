"""`controlroom-worker plant`: the whole plant as child processes of one supervisor.

Starts the coordinator, the datamanager, the browser bridge and the reference plant's sensors,
restarts any that dies on its own (with backoff), and on Ctrl-C or SIGTERM stops them in an
order that loses nothing: sensors first (they flush and say goodbye), then the coordinator,
then the datamanager once it has stored what is on its way.

Each child runs under its role (docs/security.md): its URL files from the plant's secrets
directory, given through the environment (never a password in argv). When the fixed roles'
files are missing, the plant makes them first (`broker init`, which needs rabbitmqctl on this
host and the settings' administrator logins). `--no-roles` runs every child with the settings'
own URLs (guest), as before roles existed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from controlroom.commandline import add_bridge_flags, add_roles_flags, check_bridge_port
from controlroom.config import Settings
from controlroom.db import ensure_database, migrate
from controlroom.errors import ConfigError
from controlroom.processes import STOP_TIMEOUT_S, WorkerProcess
from controlroom.provision import ensure_roles, role_settings, secrets_dir, source_settings
from controlroom.roles import (
    COORDINATOR,
    DATAMANAGER,
    SENSOR,
    VIEWER,
    SecretsDir,
)
from controlroom.simulation.presets import preset_source
from workers.lifecycle import Backoff, stop_on_signals, wait_or_stop

HELP = "run a whole plant (coordinator, datamanager, bridge, reference sensors); Ctrl-C stops it"

log = logging.getLogger(__name__)

PARENT_CHECK_S = 0.5
STABLE_AFTER_S = 30.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-sensors", action="store_true", help="do not start the reference sensors"
    )
    add_bridge_flags(parser)
    parser.add_argument(
        "--bridge-host", default="127.0.0.1", help="bridge address (default 127.0.0.1)"
    )
    parser.add_argument(
        "--bridge-users-file",
        type=Path,
        metavar="FILE",
        help="the bridge's --users-file (a login; required when --bridge-host is not loopback)",
    )
    parser.add_argument(
        "--bridge-insecure-no-auth",
        action="store_true",
        help="the bridge's --insecure-no-auth: off loopback without a login",
    )
    parser.add_argument(
        "--coordinators", type=int, default=1, help="coordinators to run (default 1)"
    )
    parser.add_argument(
        "--datamanagers", type=int, default=1, help="datamanagers to run (default 1)"
    )
    parser.add_argument(
        "--log-dir", type=Path, help="write each child's log to DIR/NAME.log instead of stderr"
    )
    add_roles_flags(parser)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop the plant when the process that started it ends (used by `controlroom up`, "
        "so closing the terminal does not leave an orphaned plant)",
    )


@dataclass
class Child:
    """One supervised worker process."""

    name: str
    args: list[str]
    stage: int  # stopped in increasing order
    role: str = ""  # its login, when the plant runs with roles
    source: str | None = None  # a source's: its own login if it has one, else `role`
    process: WorkerProcess | None = None
    restarts: int = 0
    backoff: Backoff = field(default_factory=lambda: Backoff(first=1.0, most=30.0))


def plan(args: argparse.Namespace) -> list[Child]:
    children: list[Child] = []
    if not args.no_sensors:
        children.append(
            Child("sensors", ["sensors", "--preset", "plant"], 0, SENSOR, preset_source("plant"))
        )
    if not args.no_bridge and importlib.util.find_spec("workers.bridge") is not None:
        children.append(
            Child(
                "bridge",
                [
                    "bridge",
                    "--host",
                    args.bridge_host,
                    "--port",
                    str(args.bridge_port),
                    *(
                        ["--users-file", str(args.bridge_users_file)]
                        if args.bridge_users_file
                        else []
                    ),
                    *(["--insecure-no-auth"] if args.bridge_insecure_no_auth else []),
                ],
                stage=1,
                role=VIEWER,
            )
        )
    for n in range(args.coordinators):
        children.append(Child(f"coordinator-{n + 1}", ["coordinator"], 1, COORDINATOR))
    for n in range(args.datamanagers):
        children.append(Child(f"datamanager-{n + 1}", ["datamanager"], 2, DATAMANAGER))
    return children


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        children: list[Child],
        log_dir: Path | None,
        secrets: SecretsDir | None = None,
    ) -> None:
        self.settings = settings
        self.children = children
        self.log_dir = log_dir
        self.secrets = secrets  # None: every child with `settings` (no roles)

    async def run(self, stopping: asyncio.Event) -> int:
        async with asyncio.TaskGroup() as tasks:
            for child in self.children:
                tasks.create_task(self._keep_running(child, stopping))
            await stopping.wait()
            log.info("stopping the plant")
            for stage in sorted({child.stage for child in self.children}):
                await asyncio.gather(*(self._stop(c) for c in self.children if c.stage == stage))
        log.info("plant stopped")
        return 0

    async def _keep_running(self, child: Child, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            started = loop.time()
            child.process = self._spawn(child)
            log.info("started %s", child.process)
            status = await child.process.wait()
            if stopping.is_set():
                return
            if loop.time() - started > STABLE_AFTER_S:
                child.backoff.reset()
            delay = child.backoff.next()
            child.restarts += 1
            log.error("%s exited with status %d; restarting in %.0f s", child.name, status, delay)
            if await wait_or_stop(stopping, delay):
                return

    def _spawn(self, child: Child) -> WorkerProcess:
        log_path = None if self.log_dir is None else self.log_dir / f"{child.name}.log"
        settings = self.settings
        if self.secrets is not None and child.source is not None:
            settings = source_settings(self.settings, self.secrets, child.source)
        elif self.secrets is not None and child.role:
            settings = role_settings(self.settings, self.secrets, child.role)
        return WorkerProcess(child.args, settings, log_path, label=child.name)

    async def _stop(self, child: Child) -> None:
        process = child.process
        if process is None or not process.running():
            return
        await process.stopped(STOP_TIMEOUT_S)
        log.info("%s stopped", child.name)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.coordinators < 1 or args.datamanagers < 1:
        raise ConfigError("--coordinators and --datamanagers must be at least 1")
    check_bridge_port(args.bridge_port)
    if not args.no_bridge and not (args.bridge_users_file or args.bridge_insecure_no_auth):
        _check_bridge_login(args.bridge_host)
    secrets = None if args.no_roles else secrets_dir(args.secrets_dir, settings.plant)
    if secrets is None:
        await ensure_database(settings)
        await migrate(settings)
    else:
        await ensure_roles(settings, secrets)  # and migrated as owner
    supervisor = Supervisor(settings, plan(args), args.log_dir, secrets)
    with stop_on_signals() as stopping:
        if not args.exit_with_parent:
            return await supervisor.run(stopping)
        async with asyncio.TaskGroup() as tasks:
            watching = tasks.create_task(_stop_when_orphaned(stopping))
            status = await supervisor.run(stopping)
            watching.cancel()
        return status


def _check_bridge_login(host: str) -> None:
    """Off loopback the bridge refuses to start without a login, again at every restart: the
    supervisor says it once, at its own start."""
    if importlib.util.find_spec("workers.bridge") is None:
        return
    from workers.bridge.access import is_loopback  # the bridge is optional: imported if there

    if not is_loopback(host):
        raise ConfigError(
            f"the bridge will not listen on {host} without a login: give --bridge-users-file "
            "FILE (controlroom-worker bridge-user add NAME --users-file FILE), or "
            "--bridge-insecure-no-auth"
        )


async def _stop_when_orphaned(stopping: asyncio.Event) -> None:
    parent = os.getppid()
    while not await wait_or_stop(stopping, PARENT_CHECK_S):
        if os.getppid() != parent:
            log.warning("the process that started the plant is gone; stopping the plant")
            stopping.set()
