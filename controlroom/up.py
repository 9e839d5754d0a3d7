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
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiormq
from aio_pika.abc import AbstractConnection

from controlroom.broker.claims import held_elsewhere
from controlroom.broker.connection import connect
from controlroom.broker.topology import Topology
from controlroom.commandline import EXIT_USAGE
from controlroom.config import DEFAULT_BRIDGE_PORT, Settings
from controlroom.errors import ControlroomError
from controlroom.processes import ProcessGroup
from controlroom.simulation.presets import REFERENCE_PLANT, preset_source

log = logging.getLogger(__name__)

PROG = "controlroom up"
DB_INIT_TIMEOUT_S = 60.0


def up(
    settings: Settings,
    log_dir: Path,
    run_ui: Callable[[str | None], int],
    *,
    bridge_port: int | None = DEFAULT_BRIDGE_PORT,
) -> int:
    """Start the plant, run `run_ui(browser_url)`, stop the plant; the UI's exit status.

    On a plant that is running already, only `run_ui(None)`."""
    running = asyncio.run(running_plant(settings))
    if running is not None:
        line = (
            f"plant {settings.plant!r} is running already ({running}): opening the control "
            "room on it, starting nothing"
        )
        log.info("%s", line)
        print(f"{PROG}: {line}", file=sys.stderr)
        return run_ui(None)
    plant = ProcessGroup(settings, log_dir)
    init = plant.start("db-init", ["db", "init"])
    try:
        status = init.process.wait(DB_INIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        init.kill()
        status = -1
    if status != 0:
        sys.stderr.write(
            f"{PROG}: error: database set-up failed: {init.last_log_line()} (log {init.log_path})\n"
        )
        return EXIT_USAGE
    plant_args = ["plant", "--exit-with-parent", "--log-dir", str(log_dir / "plant")]
    if bridge_port is None:
        plant_args.append("--no-bridge")
    else:
        plant_args += ["--bridge-port", str(bridge_port)]
    child = plant.start("plant", plant_args)
    print(f"{PROG}: plant started (pid {child.pid}); log {child.log_path}", file=sys.stderr)
    try:
        return run_ui(None if bridge_port is None else f"http://127.0.0.1:{bridge_port}/")
    finally:
        print(f"{PROG}: stopping the plant…", file=sys.stderr)
        plant.stop_all()
        if child.returncode not in (0, None):
            print(
                f"{PROG}: the plant ended with status {child.returncode}; log {child.log_path}",
                file=sys.stderr,
            )


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
