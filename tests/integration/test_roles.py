"""Least privilege, enforced by RabbitMQ and PostgreSQL themselves: every role against every
action (the allowed ones work, the others are refused by the broker or the database), and
workers under a role that may not do their job exit 2 with one line.

One plant with every role for the module (`shared_roles`): making roles runs rabbitmqctl.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import aio_pika
import aiormq
import asyncpg
import pytest

from controlroom.broker.topology import Topology
from controlroom.db import connect as connect_database
from controlroom.roles import COORDINATOR, DATAMANAGER, OWNER, SENSOR, VIEWER, source_role
from tests.integration.test_identity import run_worker
from tests.support import PlantRoles

ANN = "ann"  # an operator (tests/conftest.py TEST_OPERATORS)
S1 = source_role("plant", "s1").name  # source s1's own login (TEST_SOURCES); s2 has none
ROLES = (SENSOR, S1, COORDINATOR, DATAMANAGER, VIEWER, ANN, OWNER)

BrokerAction = Callable[[aio_pika.abc.AbstractChannel, Topology], Awaitable[object]]


async def _publish(
    channel: aio_pika.abc.AbstractChannel, exchange: str, key: str = "", **properties: str
) -> None:
    target = await channel.get_exchange(exchange, ensure=False) if exchange else None
    message = aio_pika.Message(b'{"type": "nothing"}', **properties)  # type: ignore[arg-type]
    await (target or channel.default_exchange).publish(message, routing_key=key, timeout=10)


async def _hear_stops(
    channel: aio_pika.abc.AbstractChannel, topology: Topology, source: str
) -> None:
    """Bind a queue of one's own to a source's stops (as a source listens for them)."""
    queue = await channel.declare_queue(topology.own_queue(), exclusive=True, auto_delete=True)
    await queue.bind(topology.stops_exchange, routing_key=source)


async def _consume_once(channel: aio_pika.abc.AbstractChannel, queue: str) -> None:
    found = await channel.get_queue(queue, ensure=False)
    message = await found.get(no_ack=False, fail=False, timeout=10)
    if message is not None:
        await message.nack(requeue=True)


@dataclass(frozen=True)
class Case:
    action: str
    allowed: frozenset[str]  # the roles that may
    run: BrokerAction


BROKER_CASES = (
    Case(
        "publish a frame as s1", frozenset({S1, OWNER}),  # not the shared login: s1 has its own
        lambda ch, t: _publish(ch, t.frames_exchange, "s1"),
    ),
    Case(
        "publish a frame as s2", frozenset({SENSOR, OWNER}),
        lambda ch, t: _publish(ch, t.frames_exchange, "s2"),
    ),
    Case(
        "publish a frame into s1's queue by the default exchange", frozenset(),
        lambda ch, t: _publish(ch, "", t.readings_queue("s1")),
    ),
    Case(
        "take s1's readings", frozenset({S1, COORDINATOR, OWNER}),
        lambda ch, t: _consume_once(ch, t.readings_queue("s1")),
    ),
    Case(
        "declare and bind s1's readings queue", frozenset({S1, COORDINATOR, OWNER}),
        lambda ch, t: Topology(t.plant, premade=True).readings(ch, "s1"),
    ),
    Case(
        "publish into persist", frozenset({COORDINATOR, OWNER}),
        lambda ch, t: _publish(ch, t.persist_exchange),
    ),
    Case(
        "publish into persist by the default exchange", frozenset(),
        lambda ch, t: _publish(ch, "", t.persist_queue),
    ),
    Case(
        "publish an event", frozenset({COORDINATOR, OWNER}),
        lambda ch, t: _publish(ch, t.events_exchange, "alarm.acked"),
    ),
    Case(
        "announce as s1", frozenset({S1, OWNER}),
        lambda ch, t: _publish(ch, t.announcements_exchange, "s1"),
    ),
    Case(
        "announce as s2", frozenset({SENSOR, OWNER}),
        lambda ch, t: _publish(ch, t.announcements_exchange, "s2"),
    ),
    Case(
        "send a stop to a source", frozenset({COORDINATOR, OWNER}),
        lambda ch, t: _publish(ch, t.stops_exchange, "s1"),
    ),
    Case(
        "hear s1's stops", frozenset({S1, OWNER}),
        lambda ch, t: _hear_stops(ch, t, "s1"),
    ),
    Case(
        "hear s2's stops", frozenset({SENSOR, OWNER}),
        lambda ch, t: _hear_stops(ch, t, "s2"),
    ),
    Case(
        "send an action (an acknowledgement, a stop)", frozenset({ANN, OWNER}),
        lambda ch, t: _publish(ch, t.actions_exchange),
    ),
    Case(
        "ask for a snapshot", frozenset({VIEWER, ANN, OWNER}),
        lambda ch, t: _publish(ch, t.requests_exchange),
    ),
    Case(
        "take persist batches", frozenset({DATAMANAGER, OWNER}),
        lambda ch, t: _consume_once(ch, t.persist_queue),
    ),
    Case(
        "take requests", frozenset({COORDINATOR, OWNER}),
        lambda ch, t: _consume_once(ch, t.requests_queue),
    ),
    Case(
        "take dead letters", frozenset({OWNER}),
        lambda ch, t: _consume_once(ch, t.dead_queue),
    ),
    Case(
        "declare a queue outside its own", frozenset({OWNER}),
        lambda ch, t: ch.declare_queue(t.name("stray"), auto_delete=True),
    ),
    Case(
        "delete the persist queue", frozenset(),  # owner may, but the module's plant needs it
        lambda ch, t: ch.queue_delete(t.persist_queue, if_empty=True, if_unused=True),
    ),
    Case(
        "delete the events exchange", frozenset(),
        lambda ch, t: ch.exchange_delete(t.events_exchange, if_unused=True),
    ),
)  # fmt: skip

# Deleting needs configure; the owner has it but the shared plant must keep its topology.
_NOT_TRIED_AS = {("delete the persist queue", OWNER), ("delete the events exchange", OWNER)}


@pytest.mark.parametrize(
    ("role", "case"),
    [
        pytest.param(role, case, id=f"{role}-{case.action.replace(' ', '_')}")
        for case in BROKER_CASES
        for role in ROLES
        if (case.action, role) not in _NOT_TRIED_AS
    ],
)
async def test_broker_enforces_each_role(shared_roles: PlantRoles, role: str, case: Case) -> None:
    settings = shared_roles.of(role)
    topology = Topology(settings.plant)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        if role in case.allowed:
            await case.run(channel, topology)
        else:
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await case.run(channel, topology)
        # Whatever happened, the connection lives on: a refusal closes one channel only.
        assert not connection.is_closed
        await (await connection.channel()).close()
    finally:
        await connection.close()


@dataclass(frozen=True)
class DatabaseCase:
    action: str
    allowed: frozenset[str]
    sql: str


READ_ALL = frozenset({VIEWER, ANN, DATAMANAGER, OWNER})
DATABASE_CASES = (
    DatabaseCase("read alarms", READ_ALL | {COORDINATOR}, "SELECT count(*) FROM alarm"),
    DatabaseCase("read readings", READ_ALL, "SELECT count(*) FROM sensor_reading"),
    DatabaseCase(
        "store a reading", frozenset({DATAMANAGER, OWNER}),
        "INSERT INTO sensor_reading (sensor_id, taken_on, value, run_id, seq) "
        "SELECT id, now(), 1, 0, 1 FROM sensor LIMIT 0",
    ),
    DatabaseCase(
        "log an action", frozenset({DATAMANAGER, OWNER}),
        "INSERT INTO action_log (at, operator, action) SELECT now(), 'x', 'y' WHERE false",
    ),
    DatabaseCase(
        "change the history policy", frozenset({OWNER}),
        "UPDATE history_policy SET raw_retention = raw_retention WHERE false",
    ),
    DatabaseCase(
        "alter the schema", frozenset({OWNER}),
        "ALTER TABLE alarm ADD COLUMN IF NOT EXISTS note text; ALTER TABLE alarm DROP COLUMN note",
    ),
    DatabaseCase(
        "make a table", frozenset({OWNER}), "CREATE TABLE stray (x int); DROP TABLE stray"
    ),
)  # fmt: skip


@pytest.mark.parametrize(
    ("role", "case"),
    [
        pytest.param(role, case, id=f"{role}-{case.action.replace(' ', '_')}")
        for case in DATABASE_CASES
        for role in ROLES
    ],
)
async def test_database_enforces_each_role(
    shared_roles: PlantRoles, role: str, case: DatabaseCase
) -> None:
    connection = await connect_database(shared_roles.of(role))
    try:
        async with connection.transaction():
            if role in case.allowed:
                await connection.execute(case.sql)
            else:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await connection.execute(case.sql)
    finally:
        await connection.close()


async def test_db_maintain_is_the_owners_and_its_partitions_take_the_datamanagers_writes(
    shared_roles: PlantRoles,
) -> None:
    """`db maintain` under roles, as docs/security.md says to run it (cron, as owner): the
    partitions it makes are the owner's and take the datamanager's readings; under any other
    role it is one line and exit 2, before anything is changed."""
    plant = shared_roles.settings.plant
    for role in (DATAMANAGER, VIEWER):
        refused = run_worker(shared_roles, role, "db", "maintain", "--premake", "5d")
        assert refused.returncode == 2, refused.stderr
        errors = [line for line in refused.stderr.strip().splitlines() if "error" in line]
        assert errors == [
            f"controlroom-worker db: error: db maintain needs the owner of plant {plant} "
            f"(partitions are DDL), not {plant}_{role}: give --database-url-file "
            "DIR/owner.db.url"
        ], refused.stderr
    admin = await connect_database(shared_roles.settings)
    try:
        assert await admin.fetchval("SELECT premake FROM history_policy") == timedelta(days=3)

        done = run_worker(shared_roles, OWNER, "db", "maintain", "--premake", "5d")
        assert done.returncode == 0, done.stderr
        assert "maintenance: 2 partitions made ahead" in done.stdout, done.stdout
        made = re.findall(r"made partition (\w+)", done.stderr)
        assert len(made) == 2, done.stderr
        owners = await admin.fetch(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = $1", plant
        )
        assert {row["tableowner"] for row in owners} == {f"{plant}_owner"}, owners

        datamanager = await connect_database(shared_roles.of(DATAMANAGER))
        try:
            await datamanager.execute(
                "INSERT INTO sensor_reading (sensor_id, taken_on, value, run_id, seq) "
                "VALUES (1, now() + interval '4 days 1 hour', 1.0, 1, 1)"
            )
        finally:
            await datamanager.close()
        stored_in = await admin.fetchval(
            "SELECT tableoid::regclass::text FROM sensor_reading WHERE seq = 1 AND run_id = 1"
        )
        assert stored_in in made  # not the default partition: one the owner just made
    finally:  # the module's plant as it was (the partitions made ahead are harmless)
        await admin.execute("DELETE FROM sensor_reading WHERE run_id = 1 AND seq = 1")
        await admin.execute("UPDATE history_policy SET premake = interval '3 days'")
        await admin.close()
