"""`controlroom up`: the whole plant as a child process, the control room in front of it.

`up` runs `db init`, starts `controlroom-worker plant` (with `--exit-with-parent`, so a closed
terminal leaves no orphaned plant), opens the UI and stops the plant when the UI quits, however
it quits. Logs go to files (the terminal is the UI's): LOG_DIR/db-init.log, LOG_DIR/plant.log
and LOG_DIR/plant/ for the plant's own children.

On a plant that is running already (a coordinator consumes its requests queue, or the
reference sensors' names are held: a second operator, or `./scripts/up` left running in
another terminal) `up` starts nothing: it says so in one line and opens the UI on that plant.
A second copy would double the reference sensors (refused now by their names' claims) and
race the first for everything else.

With roles (the default): when a role's URL files are missing, `up` runs `broker init` first
(LOG_DIR/broker-init.log), with an operator login for the control room, named after the user
of the machine (`operator_for_user`); the plant's children each run under their role, the
database is initialised as owner, and the control room acts as that operator.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import aiormq
from aio_pika.abc import AbstractConnection

from controlroom.broker.claims import held_elsewhere
from controlroom.broker.connection import connect
from controlroom.broker.topology import Topology
from controlroom.commandline import EXIT_USAGE
from controlroom.config import DEFAULT_BRIDGE_PORT, Settings
from controlroom.errors import ConfigError, ControlroomError
from controlroom.processes import ProcessGroup, WorkerProcess
from controlroom.provision import role_settings, source_settings
from controlroom.roles import FIXED_ROLES, OWNER, SecretsDir, operator
from controlroom.simulation.presets import REFERENCE_PLANT, preset_source

log = logging.getLogger(__name__)

PROG = "controlroom up"
# The settings a sensor the control room starts runs with, by its name (`source_settings`).
SourcesAs = Callable[[str | None], Settings]
DB_INIT_TIMEOUT_S = 60.0


def operator_for_user() -> str:
    """The operator login `up` makes for the control room: the machine's user name, if it is
    a usable one, else `operator`."""
    name = re.sub(r"[^a-z0-9_]", "_", getpass.getuser().lower())[:20]
    try:
        return operator("plant", name).name
    except ConfigError:
        return "operator"


def up(
    settings: Settings,
    log_dir: Path,
    run_ui: Callable[[str | None, Settings, SourcesAs | None], int],
    *,
    bridge_port: int | None = DEFAULT_BRIDGE_PORT,
    secrets: SecretsDir | None = None,
) -> int:
    """Start the plant, run `run_ui(browser_url, settings, sources_as)`, stop the plant; the
    UI's exit status. With `secrets` the plant runs with roles, the UI as an operator, and the
    sensors it starts as their sources (`source_settings`).

    On a plant that is running already, only `run_ui(None, settings, sources_as)`."""
    running = asyncio.run(running_plant(settings))
    ui_settings = settings
    sources_as: SourcesAs | None = None
    if secrets is not None and secrets.has(operator_for_user()):
        ui_settings = role_settings(settings, secrets, operator_for_user())
        sources_as = partial(source_settings, settings, secrets)
    if running is not None:
        line = (
            f"plant {settings.plant!r} is running already ({running}): opening the control "
            "room on it, starting nothing"
        )
        log.info("%s", line)
        print(f"{PROG}: {line}", file=sys.stderr)
        return run_ui(None, ui_settings, sources_as)
    plant = ProcessGroup(settings, log_dir)
    owner = settings
    if secrets is not None:
        name = operator_for_user()
        if not all(secrets.has(role) for role in (*FIXED_ROLES, name)):
            args = ["broker", "init", "--secrets-dir", str(secrets.path), "--operator", name]
            if not _finished(plant.start("broker-init", args), "role set-up"):
                return EXIT_USAGE
        owner = role_settings(settings, secrets, OWNER)
        ui_settings = role_settings(settings, secrets, name)
        sources_as = partial(source_settings, settings, secrets)
    if not _finished(plant.start("db-init", ["db", "init"], owner), "database set-up"):
        return EXIT_USAGE
    plant_args = ["plant", "--exit-with-parent", "--log-dir", str(log_dir / "plant")]
    if secrets is None:
        plant_args.append("--no-roles")
    else:
        plant_args += ["--secrets-dir", str(secrets.path)]
    if bridge_port is None:
        plant_args.append("--no-bridge")
    else:
        plant_args += ["--bridge-port", str(bridge_port)]
    child = plant.start("plant", plant_args)
    print(f"{PROG}: plant started (pid {child.pid}); log {child.log_path}", file=sys.stderr)
    try:
        browser = None if bridge_port is None else f"http://127.0.0.1:{bridge_port}/"
        return run_ui(browser, ui_settings, sources_as)
    finally:
        print(f"{PROG}: stopping the plant…", file=sys.stderr)
        plant.stop_all()
        if child.returncode not in (0, None):
            print(
                f"{PROG}: the plant ended with status {child.returncode}; log {child.log_path}",
                file=sys.stderr,
            )


def _finished(step: WorkerProcess, what: str) -> bool:
    """Whether a set-up step ended well; one line (its last) if not."""
    try:
        status = step.process.wait(DB_INIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        step.kill()
        status = -1
    if status != 0:
        sys.stderr.write(
            f"{PROG}: error: {what} failed: {step.last_log_line()} (log {step.log_path})\n"
        )
    return status == 0


async def running_plant(settings: Settings) -> str | None:
    """What shows that the plant runs already, in words; None if nothing does (or the broker
    cannot be reached: then the plant `up` starts waits for it, as before)."""
    try:
        connection = await connect(settings, "up")
    except ControlroomError:
        return None
    async with connection:
        topology = Topology(settings.plant)
        try:
            consumers = await _consumers(connection, topology.requests_queue)
            if consumers:
                return f"{consumers} coordinator(s) serve it"
            names = [preset_source("plant"), *(preset.info.name for preset in REFERENCE_PLANT)]
            held = await held_elsewhere(connection, topology, names)
        except (aiormq.exceptions.AMQPError, OSError, ControlroomError) as error:
            log.warning("could not tell whether the plant runs (%s); starting it", error)
            return None
        return f"{held[0]!r} is running" if held else None


async def _consumers(connection: AbstractConnection, queue: str) -> int:
    """Consumers of a queue, by a passive declaration (0 if it does not exist)."""
    transport = connection.transport
    assert transport is not None
    channel = await transport.connection.channel()
    try:
        declared = await channel.queue_declare(queue, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return 0
    finally:
        if not channel.is_closed:
            await channel.close()
    return int(declared.consumer_count or 0)
