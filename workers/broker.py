"""`controlroom-worker broker migrate-queues --to quorum|classic`: a plant's durable queues
moved to another queue type, with their messages (controlroom.broker.migration says how)."""

from __future__ import annotations

import argparse
import logging

from controlroom.broker.connection import connect
from controlroom.broker.migration import migrate_queues
from controlroom.config import QUEUE_TYPES, Settings
from controlroom.db import connect as connect_database

HELP = (
    "broker administration: `broker migrate-queues --to quorum` moves a stopped plant's durable "
    "queues to another type without losing a message"
)

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    migrating = actions.add_parser(
        "migrate-queues",
        help="make the plant's readings, persist and dead queues of another type, keeping "
        "their messages; stop every process of the plant first; safe to run again",
    )
    migrating.add_argument("--to", required=True, choices=QUEUE_TYPES, help="the new type")
    migrating.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="a source whose readings queue to move besides those the database knows (repeatable)",
    )


async def known_sources(settings: Settings) -> list[str]:
    """Every source the plant's database has seen a run of."""
    connection = await connect_database(settings)
    try:
        rows = await connection.fetch("SELECT DISTINCT source FROM source_run ORDER BY source")
    finally:
        await connection.close()
    return [row["source"] for row in rows]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    sources = sorted({*await known_sources(settings), *args.source})
    connection = await connect(settings, "migrate-queues")
    async with connection:
        moved = await migrate_queues(connection, settings.plant, args.to, sources)
    for queue in moved:
        print(f"{queue.queue}: a {args.to} queue, {queue.messages} messages moved over")
    if settings.durable_queue_type != args.to:
        print(
            f"note: these settings declare {settings.durable_queue_type} queues; start the "
            f"plant with --queue-type {args.to} (or CONTROLROOM_QUEUE_TYPE={args.to})"
        )
    return 0
