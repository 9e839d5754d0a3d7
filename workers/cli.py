"""`controlroom-worker`: one subcommand per headless process.

Each subcommand lives in its own module, which exposes `HELP` (one line), `configure(parser)`
(its flags) and `async run(args, settings) -> int` (its exit status). The long-running ones
(`LONG_RUNNING`) also take `--metrics-port` (`controlroom.metrics`). User mistakes (bad flags,
bad config, a broker or database that cannot be reached at start) end as one line on stderr and
exit status 2, never a traceback (`controlroom.commandline`).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from controlroom import metrics
from controlroom.commandline import (
    EXIT_INTERRUPTED,
    Parser,
    add_log_level,
    configure_logging,
    report,
)
from controlroom.config import Settings, add_arguments, warn_about_argv_passwords
from controlroom.errors import ControlroomError, access_refused

PROG = "controlroom-worker"

# name -> module; a module is imported only when its subcommand runs.
SUBCOMMANDS: dict[str, str] = {
    "sensor": "workers.sensor",
    "sensors": "workers.sensors",
    "coordinator": "workers.coordinator",
    "datamanager": "workers.datamanager",
    "bridge": "workers.bridge",
    "bridge-user": "workers.bridgeuser",
    "plant": "workers.plant",
    "db": "workers.dbcli",
    "broker": "workers.broker",
    "audit": "workers.audit",
    "export": "workers.export",
    "scenario": "workers.scenario",
}


# The workers that run until stopped, and so serve Prometheus metrics when asked.
LONG_RUNNING = frozenset({"sensor", "sensors", "coordinator", "datamanager", "bridge"})


def build_parser(command: str | None = None) -> tuple[Parser, dict[str, ModuleType]]:
    """The parser, with `command`'s module imported and its flags configured (every
    subcommand's when None): a worker, and a mistake in its flags, need not wait for the
    imports of all the others."""
    parser = Parser(prog=PROG, description="Run one process of a controlroom plant.")
    add_log_level(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    modules = {}
    for name, module_name in SUBCOMMANDS.items():
        if command is not None and name != command:
            subparsers.add_parser(name)
            continue
        module = importlib.import_module(module_name)
        modules[name] = module
        sub = subparsers.add_parser(
            name, help=module.HELP, description=module.HELP, allow_abbrev=False
        )
        module.configure(sub)
        if name in LONG_RUNNING:
            metrics.add_arguments(sub)
        add_arguments(sub)
    return parser, modules


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand an argument list names (its first word that is one), if any."""
    return next((word for word in argv if word in SUBCOMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser, modules = build_parser(chosen_command(words))
    args = parser.parse_args(words)
    command: str = args.command
    prog = f"{PROG} {command}"
    try:
        settings = Settings.from_args(args)
    except ControlroomError as error:
        return report(prog, error)
    configure_logging(args.log_level, command)
    warn_about_argv_passwords(args)
    try:
        metrics.serve(args)
    except ControlroomError as error:
        return report(prog, error)
    try:
        status: int = asyncio.run(modules[command].run(args, settings))
    except ControlroomError as error:
        return report(prog, error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        refused = access_refused(error)
        if refused is None:
            raise
        return report(prog, refused)
    return status


if __name__ == "__main__":
    sys.exit(main())
