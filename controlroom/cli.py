"""`controlroom`: the operator's terminal UI; `controlroom up`: the whole plant and the UI.

`up` starts `controlroom-worker plant` as a child (after `db init`), opens the UI, and stops
the plant when the UI quits, however it quits. Logs go to files (the terminal is the UI's):
LOG_DIR/controlroom.log, LOG_DIR/plant.log and one file per sensor spawned from the UI.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from controlroom.config import ConfigError, Settings, add_arguments

PROG = "controlroom"
EXIT_USAGE = 2
DB_INIT_TIMEOUT_S = 60.0
DEFAULT_BRIDGE_PORT = 3000

log = logging.getLogger(__name__)


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def default_log_dir(plant: str) -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "controlroom" / plant


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="The control room: watch and operate a controlroom plant in the terminal.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["up"],
        help="up: also start the whole plant (coordinator, datamanager, bridge, preset "
        "sensors) and stop it on quit",
    )
    parser.add_argument(
        "--operator", metavar="NAME", help="name stored with acknowledgements (default: login name)"
    )
    parser.add_argument(
        "--log-dir",
        metavar="DIR",
        type=Path,
        help="where logs go (default $XDG_STATE_HOME/controlroom/PLANT)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.add_argument(
        "--no-bridge", action="store_true", help="up: do not start the browser bridge"
    )
    parser.add_argument(
        "--bridge-port",
        type=int,
        default=DEFAULT_BRIDGE_PORT,
        metavar="PORT",
        help=f"up: the browser bridge's port (default {DEFAULT_BRIDGE_PORT})",
    )
    parser.add_argument(
        "--browser-url",
        metavar="URL",
        help="the browser view to show in the footer (up: the bridge it starts)",
    )
    parser.add_argument("--stats-file", type=Path, help=argparse.SUPPRESS)  # bench/tui.py
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_args(args)
    except ConfigError as error:
        parser.exit(EXIT_USAGE, f"{PROG}: error: {error}\n")
    if args.operator is not None and not args.operator.strip():
        parser.exit(EXIT_USAGE, f"{PROG}: error: --operator needs a name\n")
    log_dir: Path = args.log_dir or default_log_dir(settings.plant)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.exit(EXIT_USAGE, f"{PROG}: error: cannot use log directory {log_dir}: {error}\n")
    logging.basicConfig(
        level=args.log_level,
        filename=log_dir / "controlroom.log",
        format="%(asctime)s %(levelname)s controlroom[%(process)d] %(name)s: %(message)s",
    )
    if not 1 <= args.bridge_port <= 65535:
        parser.exit(EXIT_USAGE, f"{PROG}: error: --bridge-port must be between 1 and 65535\n")
    if args.command == "up":
        bridge_port = None if args.no_bridge else args.bridge_port
        return up(settings, args.operator, log_dir, bridge_port=bridge_port)
    return run_ui(settings, args.operator, log_dir, args.stats_file, args.browser_url)


def run_ui(
    settings: Settings,
    operator: str | None,
    log_dir: Path,
    stats_file: Path | None = None,
    browser_url: str | None = None,
) -> int:
    from controlroom.tui import ControlRoom  # Textual loads only when the UI runs

    ControlRoom(
        settings,
        operator=operator,
        log_dir=log_dir,
        stats_path=stats_file,
        handle_signals=True,
        browser_url=browser_url,
    ).run()
    return 0


def up(
    settings: Settings,
    operator: str | None,
    log_dir: Path,
    *,
    bridge_port: int | None = DEFAULT_BRIDGE_PORT,
) -> int:
    """The plant as a child process, the UI in front; the plant goes when the UI goes."""
    from controlroom.tui.processes import Children

    plant = Children(settings, log_dir)
    init = plant.start("db-init", ["db", "init"])
    try:
        status = init.process.wait(DB_INIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        init.process.kill()
        status = -1
    if status != 0:
        sys.stderr.write(
            f"{PROG} up: error: database set-up failed: {init.last_log_line()} "
            f"(log {init.log_path})\n"
        )
        return EXIT_USAGE
    plant_args = ["plant", "--exit-with-parent", "--log-dir", str(log_dir / "plant")]
    if bridge_port is None:
        plant_args.append("--no-bridge")
    else:
        plant_args += ["--bridge-port", str(bridge_port)]
    child = plant.start("plant", plant_args)
    print(f"{PROG} up: plant started (pid {child.pid}); log {child.log_path}", file=sys.stderr)
    try:
        browser_url = None if bridge_port is None else f"http://127.0.0.1:{bridge_port}/"
        return run_ui(settings, operator, log_dir, browser_url=browser_url)
    finally:
        print(f"{PROG} up: stopping the plant…", file=sys.stderr)
        plant.stop_all()
        if child.process.returncode not in (0, None):
            print(
                f"{PROG} up: the plant ended with status {child.process.returncode}; "
                f"log {child.log_path}",
                file=sys.stderr,
            )


if __name__ == "__main__":
    sys.exit(main())
