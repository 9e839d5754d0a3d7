"""`controlroom`: the operator's terminal UI; `controlroom up`: the whole plant and the UI.

Logs go to files, never to the terminal (it is the UI's): LOG_DIR/controlroom.log, and under
`up` the plant's logs (see `controlroom.up`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from controlroom.clock import now_us, parse_moment
from controlroom.commandline import (
    LOG_LEVELS,
    Parser,
    add_bridge_flags,
    add_roles_flags,
    check_bridge_port,
    configure_logging,
    report,
)
from controlroom.config import (
    Settings,
    add_arguments,
    add_bell_argument,
    add_history_argument,
    bell_enabled,
    warn_about_argv_passwords,
)
from controlroom.errors import ConfigError, ControlroomError
from controlroom.plant.replay import SPEEDS
from controlroom.provision import secrets_dir
from controlroom.up import SourcesAs, up

PROG = "controlroom"


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
        "--operator",
        metavar="NAME",
        help="a display name for this control room (default: the machine's login name); who "
        "acted is recorded as the broker login, which the broker vouches for",
    )
    parser.add_argument(
        "--log-dir",
        metavar="DIR",
        type=Path,
        help="where logs go (default $XDG_STATE_HOME/controlroom/PLANT)",
    )
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS)
    add_bridge_flags(parser, prefix="up: ")
    add_roles_flags(parser)
    parser.add_argument(
        "--browser-url",
        metavar="URL",
        help="the browser view to show in the footer (up: the bridge it starts)",
    )
    parser.add_argument(
        "--replay",
        metavar="MOMENT",
        help="open the replay of a moment of the stored history: 2026-12-01T03:10Z, "
        "'2026-12-01 03:10' (local time), or a span before now ('15m ago', or --replay=-15m); "
        "l goes live",
    )
    parser.add_argument(
        "--replay-speed",
        type=int,
        choices=SPEEDS,
        default=1,
        metavar="N",
        help=f"how fast the replay plays at first: one of {', '.join(map(str, SPEEDS))} "
        "(times real time; default 1)",
    )
    parser.add_argument("--stats-file", type=Path, help=argparse.SUPPRESS)  # bench/tui.py
    add_arguments(parser)
    add_history_argument(parser)
    add_bell_argument(parser)
    return parser


def replay_moment(text: str | None) -> int | None:
    """`--replay`'s moment in microseconds; one line for anything else."""
    if text is None:
        return None
    now = now_us()
    moment = parse_moment(text, now)
    if moment is None:
        raise ConfigError(
            f"--replay {text!r} is not a moment: write 2026-12-01T03:10Z, "
            "'2026-12-01 03:10' (local time) or '15m ago'"
        )
    if moment >= now:
        raise ConfigError(f"--replay {text!r} is not in the past")
    return moment


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_args(args)
        bell = bell_enabled(args)
        if args.operator is not None and not args.operator.strip():
            raise ConfigError("--operator needs a name")
        check_bridge_port(args.bridge_port)
        replay_at = replay_moment(args.replay)
        log_dir: Path = args.log_dir or default_log_dir(settings.plant)
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"cannot use log directory {log_dir}: {error}") from None
    except ControlroomError as error:
        return report(PROG, error)
    configure_logging(args.log_level, PROG, log_dir / "controlroom.log")
    warn_about_argv_passwords(args)

    def run_ui(
        browser_url: str | None,
        as_settings: Settings = settings,
        sources_as: SourcesAs | None = None,
    ) -> int:
        from controlroom.tui import ControlRoom  # Textual loads only when the UI runs

        ControlRoom(
            as_settings,
            operator=args.operator,
            log_dir=log_dir,
            stats_path=args.stats_file,
            handle_signals=True,
            browser_url=browser_url or args.browser_url,
            bell=bell,
            replay_at=replay_at,
            replay_speed=args.replay_speed,
            sources_as=sources_as,
        ).run()
        return 0

    if args.command == "up":
        secrets = None if args.no_roles else secrets_dir(args.secrets_dir, settings.plant)
        return up(
            settings,
            log_dir,
            run_ui,
            bridge_port=None if args.no_bridge else args.bridge_port,
            secrets=secrets,
        )
    return run_ui(None)


if __name__ == "__main__":
    sys.exit(main())
