"""`controlroom-worker db init | maintain`: the plant's schema and its history's upkeep."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from controlroom.clock import format_duration, parse_duration
from controlroom.config import Settings
from controlroom.db import connect, ensure_database, migrate
from controlroom.db.maintenance import maintain
from controlroom.db.policy import change_policy
from controlroom.db.roles import owns_schema
from controlroom.errors import ConfigError

HELP = (
    "database administration: `db init` creates the database and applies sql/ migrations, "
    "`db maintain` makes partitions ahead and applies retention"
)

log = logging.getLogger(__name__)

# flag -> the history_policy setting it changes (stored: later rounds keep it).
POLICY_FLAGS = {
    "partition_interval": "the width of a readings partition: 1d (default), 6h, 1h, 15m",
    "premake": "how far ahead of now partitions are made (default 3d)",
    "raw_retention": "how long raw readings are kept (default 30d)",
    "minute_retention": "how long the 1-minute rollups are kept (default 365d)",
    "hour_retention": "how long the 1-hour rollups are kept (default 3650d)",
}


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("init", help="create the database if missing and apply new migrations")
    maintaining = actions.add_parser(
        "maintain",
        help="make partitions ahead, adopt stray readings, drop partitions past retention; "
        "harmless to run twice",
    )
    for name, text in POLICY_FLAGS.items():
        maintaining.add_argument(
            "--" + name.replace("_", "-"),
            metavar="SPAN",
            help=text + "; stored for every later round",
        )


def policy_changes(args: argparse.Namespace) -> dict[str, timedelta]:
    changes = {}
    for name in POLICY_FLAGS:
        text = getattr(args, name, None)
        if text is None:
            continue
        span = parse_duration(text)
        if span is None:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {text!r} is not a span like 30d, 12h or 15m")
        changes[name] = span
    return changes


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "maintain":
        return await run_maintain(args, settings)
    if await ensure_database(settings):
        log.info("created database %s", settings.database_display)
    applied = await migrate(settings)
    log.info(
        "plant %s: schema up to date (%d migrations applied now)", settings.plant, len(applied)
    )
    return 0


async def run_maintain(args: argparse.Namespace, settings: Settings) -> int:
    changes = policy_changes(args)
    connection = await connect(settings)
    try:
        if not await connection.fetchval("SELECT to_regclass('history_policy') IS NOT NULL"):
            raise ConfigError(
                f"plant {settings.plant} has no history tables yet: "
                "run `controlroom-worker db init`"
            )
        if not await owns_schema(connection, settings.plant):
            # Partitions are DDL, so the upkeep is the owner's (docs/security.md); say so
            # rather than let the first statement refused name a table.
            raise ConfigError(
                f"db maintain needs the owner of plant {settings.plant} (partitions are DDL), "
                f"not {connection.get_settings().session_authorization}: give "
                "--database-url-file DIR/owner.db.url"
            )
        policy = await change_policy(connection, **changes)
        if changes:
            log.info(
                "history policy: partitions of %s, made %s ahead, raw readings kept %s",
                format_duration(policy.partition_interval),
                format_duration(policy.premake),
                format_duration(policy.raw_retention),
            )
        report = await maintain(connection, wait=True)
    finally:
        await connection.close()
    print(report.summary())
    return 0
