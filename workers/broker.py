"""`controlroom-worker broker init`: the plant's roles, their rights and their URL files
(controlroom.provision); `broker migrate-queues --to quorum|classic`: a plant's durable queues
moved to another queue type, with their messages (controlroom.broker.migration says how)."""

from __future__ import annotations

import argparse
import logging

from controlroom.broker.connection import connect
from controlroom.broker.migration import migrate_queues
from controlroom.config import QUEUE_TYPES, Settings
from controlroom.db import connect as connect_database
from controlroom.provision import Plan, init_roles, secrets_dir

HELP = (
    "broker administration: `broker init` makes the plant's roles (logins, rights, URL files); "
    "`broker migrate-queues --to quorum` moves a stopped plant's durable queues to another type "
    "without losing a message"
)

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="make the plant's roles (sensor, coordinator, datamanager, viewer, owner and each "
        "operator) on the broker (rabbitmqctl, on the broker's host) and in the database, and "
        "write each role's URLs to DIR/ROLE.url and DIR/ROLE.db.url (mode 0600); run as the "
        "broker's and the database's administrator; safe to run again (passwords are kept)",
    )
    init.add_argument(
        "--secrets-dir",
        metavar="DIR",
        help="where the URL files go (default $CONTROLROOM_SECRETS_DIR/PLANT, else "
        "/etc/controlroom/PLANT for root, else "
        "$XDG_CONFIG_HOME or ~/.config, then controlroom/PLANT)",
    )
    init.add_argument(
        "--operator", action="append", default=[], metavar="NAME", help="add an operator login"
    )
    init.add_argument(
        "--remove-operator",
        action="append",
        default=[],
        metavar="NAME",
        help="remove an operator's login and files",
    )
    init.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="give this source a login of its own, DIR/sensor-NAME.url (repeatable): it may "
        "publish and hear as that source only, and the shared sensor login no longer may",
    )
    init.add_argument(
        "--remove-source",
        action="append",
        default=[],
        metavar="NAME",
        help="remove a source's own login and files (the shared sensor login may speak for it "
        "again)",
    )
    init.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="ROLE",
        help="give this role (an operator, or sensor-NAME for a source's own login) a new "
        "password (repeatable); restart its processes",
    )
    init.add_argument(
        "--rabbitmq-node", metavar="NODE", help="the node rabbitmqctl talks to (its default)"
    )
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
    if args.action == "init":
        return await _init(args, settings)
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


async def _init(args: argparse.Namespace, settings: Settings) -> int:
    plan = Plan(
        secrets_dir(args.secrets_dir, settings.plant),
        add_operators=tuple(args.operator),
        remove_operators=tuple(args.remove_operator),
        add_sources=tuple(args.source),
        remove_sources=tuple(args.remove_source),
        rotate=frozenset(args.rotate),
        node=args.rabbitmq_node,
    )
    outcome = await init_roles(settings, plan)
    for line in outcome.lines(plan.secrets):
        print(line)
    return 0
