"""`controlroom-worker db init`: create the database if missing and apply migrations."""

from __future__ import annotations

import argparse
import logging

from controlroom.config import Settings
from controlroom.db import ensure_database, migrate

HELP = "database administration: `db init` creates the database and applies sql/ migrations"

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("init", help="create the database if missing and apply new migrations")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if await ensure_database(settings):
        log.info("created database %s", settings.database_display)
    applied = await migrate(settings)
    log.info(
        "plant %s: schema up to date (%d migrations applied now)", settings.plant, len(applied)
    )
    return 0
