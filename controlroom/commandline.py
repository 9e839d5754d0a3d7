"""What both console scripts (`controlroom`, `controlroom-worker`) share: the parser whose
errors are one line, the exit statuses, logging, and how a user's mistake is reported."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from controlroom.config import DEFAULT_BRIDGE_PORT
from controlroom.errors import ConfigError, ControlroomError

EXIT_OK = 0
EXIT_USAGE = 2  # a mistake: a bad flag, bad config, a service that cannot be reached at start
EXIT_INTERRUPTED = 130
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level", default="INFO", choices=LOG_LEVELS, help="logging threshold (default INFO)"
    )


def add_bridge_flags(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """--no-bridge and --bridge-port, as the plant supervisor takes them and `controlroom up`
    hands them on to it; `prefix` starts each help text ("up: ")."""
    parser.add_argument(
        "--no-bridge", action="store_true", help=f"{prefix}do not start the browser bridge"
    )
    parser.add_argument(
        "--bridge-port",
        type=int,
        default=DEFAULT_BRIDGE_PORT,
        metavar="PORT",
        help=f"{prefix}the browser bridge's port (default {DEFAULT_BRIDGE_PORT})",
    )


def check_bridge_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ConfigError("--bridge-port must be between 1 and 65535")


def configure_logging(level: str, role: str, file: Path | None = None) -> None:
    """One line per event, naming the process; to a file (the TUI's terminal is its own) or
    to stderr."""
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {role}[%(process)d] %(name)s: %(message)s",
        **({"filename": file} if file is not None else {"stream": sys.stderr}),
    )
    # The AMQP libraries narrate every connection attempt, with tracebacks; we log our own
    # one-line account of losing and regaining the broker instead (controlroom.broker).
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)
    # Its robust channels log an ERROR per channel when the connection drops (a callback that
    # finds the channel closed already); harmless, and our own line says what happened.
    logging.getLogger("aio_pika.tools").setLevel(logging.CRITICAL)


def report(prog: str, error: ControlroomError) -> int:
    """A user's mistake (or a service away at start): one line on stderr, exit status 2."""
    sys.stderr.write(f"{prog}: error: {error}\n")
    return EXIT_USAGE


def add_roles_flags(parser: argparse.ArgumentParser) -> None:
    """How a plant's processes log in: `plant` and `controlroom up` share these."""
    parser.add_argument(
        "--secrets-dir",
        metavar="DIR",
        help="the roles' URL files (`broker init` writes them; made when missing); default "
        "$CONTROLROOM_SECRETS_DIR/PLANT, else /etc/controlroom/PLANT for root, else "
        "~/.config/controlroom/PLANT",
    )
    parser.add_argument(
        "--no-roles",
        action="store_true",
        help="run every process with the given URLs (guest) instead of a login per role",
    )
