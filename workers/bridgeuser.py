"""`controlroom-worker bridge-user`: the browser view's users file (`bridge --users-file`).

`add NAME` sets a user's password (a new user, or a new password for one), read from the
terminal (asked twice) or, when standard input is not a terminal, as its first line: never from
the command line, which other users of the machine can read. `remove NAME` takes a user out;
`list` names them. The file is rewritten whole, mode 0600; a running bridge reads it at start.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from controlroom.config import Settings
from controlroom.errors import ConfigError
from workers.bridge.login import (
    MIN_PASSWORD,
    check_user_name,
    hash_password,
    read_users,
    write_users,
)

HELP = "add, remove or list the browser view's users (the bridge's --users-file)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add", "remove", "list"])
    parser.add_argument("name", nargs="?", help="the user (add, remove)")
    parser.add_argument(
        "--users-file", type=Path, required=True, metavar="FILE", help="the users file"
    )


def read_password(name: str) -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise ConfigError("the two passwords differ: nothing changed")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password has at least {MIN_PASSWORD} characters: nothing changed")
    return password


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return manage(args)


def manage(args: argparse.Namespace) -> int:
    path: Path = args.users_file
    if args.action == "list":
        for name in sorted(read_users(path)):
            print(name)
        return 0
    if not args.name:
        raise ConfigError(f"bridge-user {args.action} needs a user name")
    check_user_name(args.name)
    users = read_users(path) if path.exists() or args.action == "remove" else {}
    if args.action == "remove":
        if users.pop(args.name, None) is None:
            raise ConfigError(f"no user {args.name!r} in {str(path)!r}")
        write_users(path, users)
        print(f"removed {args.name} (a running bridge forgets them when it restarts)")
        return 0
    known = args.name in users
    users[args.name] = hash_password(read_password(args.name))
    write_users(path, users)
    print(f"{'changed the password of' if known else 'added'} {args.name} in {path}")
    return 0
