"""`controlroom-worker`: one subcommand per headless process.

Each subcommand lives in its own module, which exposes `HELP` (one line), `configure(parser)`
(its flags) and `async run(args, settings) -> int` (its exit status). User mistakes (bad flags,
bad config, a broker or database that cannot be reached at start) end as one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from controlroom.amqp import BrokerUnreachable
from controlroom.config import ConfigError, Settings, add_arguments
from controlroom.db import DatabaseUnavailable
from controlroom.messages import InvalidMessage

PROG = "controlroom-worker"

# name -> module; a module is imported only when its subcommand runs.
SUBCOMMANDS: dict[str, str] = {
    "sensor": "workers.sensor",
    "sensors": "workers.sensors",
    "coordinator": "workers.coordinator",
    "datamanager": "workers.datamanager",
    "bridge": "workers.bridge",
    "plant": "workers.plant",
    "db": "workers.dbcli",
    "audit": "workers.audit",
}

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> tuple[Parser, dict[str, ModuleType]]:
    parser = Parser(prog=PROG, description="Run one process of a controlroom plant.")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging threshold (default INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    modules = {}
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # a subcommand not built yet
        modules[name] = module
        sub = subparsers.add_parser(
            name, help=module.HELP, description=module.HELP, allow_abbrev=False
        )
        module.configure(sub)
        add_arguments(sub)
    return parser, modules


def configure_logging(level: str, role: str) -> None:
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {role}[%(process)d] %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The AMQP libraries narrate every connection attempt, with tracebacks; we log our own
    # one-line account of losing and regaining the broker instead (controlroom.amqp).
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)
    # Its robust channels log an ERROR per channel when the connection drops (a callback that
    # finds the channel closed already); harmless, and our own line says what happened.
    logging.getLogger("aio_pika.tools").setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    command: str = args.command
    try:
        settings = Settings.from_args(args)
    except ConfigError as error:
        parser.exit(EXIT_USAGE, f"{PROG} {command}: error: {error}\n")
    configure_logging(args.log_level, command)
    try:
        status: int = asyncio.run(modules[command].run(args, settings))
    except (ConfigError, InvalidMessage, BrokerUnreachable, DatabaseUnavailable) as error:
        sys.stderr.write(f"{PROG} {command}: error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
