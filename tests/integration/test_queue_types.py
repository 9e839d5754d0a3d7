"""The plant's durable queues as quorum queues, a plant whose queues are of the other type, and
the migration that moves a plant over without losing a message (on the machine's one broker: a
quorum queue is as declarable on one node as on three)."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import orjson
import pytest

from controlroom.broker.topology import DELIVERY_LIMIT, Topology
from controlroom.config import Settings
from tests.support import until, wait_for

SOURCE = "s1"


@pytest.fixture
async def channel(settings: Settings) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


def worker(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True,
        text=True,
        env=settings.as_env(),
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


async def queue_facts(plant: str) -> dict[str, dict[str, Any]]:
    """name -> {type, arguments} of the plant's queues, as the broker lists them."""
    result = await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "list_queues", "name", "type", "arguments", "--formatter", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = orjson.loads(result.stdout)
    return {
        row["name"]: {"type": row["type"], "arguments": {k: v for k, _, v in row["arguments"]}}
        for row in rows
        if row["name"].startswith(f"{plant}.")
    }


async def publish(channel: aio_pika.abc.AbstractChannel, queue: str, numbers: range) -> None:
    for number in numbers:
        await channel.default_exchange.publish(
            aio_pika.Message(str(number).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue,
        )


async def take_all(channel: aio_pika.abc.AbstractChannel, name: str) -> list[int]:
    """Every message of the queue, in order (consumed: a quorum queue with a single active
    consumer refuses basic.get)."""
    queue = await channel.declare_queue(name, passive=True)
    expected = queue.declaration_result.message_count or 0
    taken: list[int] = []

    async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        taken.append(int(message.body))
        await message.ack()

    tag = await queue.consume(keep)
    await until(lambda: len(taken) >= expected, f"{expected} messages from {name}")
    await queue.cancel(tag)
    return taken


async def test_quorum_queues_have_a_delivery_limit_and_safe_dead_lettering(
    settings: Settings, channel: aio_pika.abc.AbstractChannel
) -> None:
    topology = Topology(settings.plant, "quorum")
    await topology.readings(channel, SOURCE)
    await topology.persist(channel)
    facts = await queue_facts(settings.plant)
    for name in (topology.readings_queue(SOURCE), topology.persist_queue, topology.dead_queue):
        assert facts[name]["type"] == "quorum", facts[name]
    readings = facts[topology.readings_queue(SOURCE)]["arguments"]
    assert readings["x-delivery-limit"] == DELIVERY_LIMIT
    assert readings["x-dead-letter-strategy"] == "at-least-once"
    assert readings["x-overflow"] == "reject-publish"

    # A message every consumer gives back ends in dead after the limit, not in a loop.
    await publish(channel, topology.persist_queue, range(7, 8))
    queue = await channel.get_queue(topology.persist_queue)
    returns = 0
    while (message := await queue.get(fail=False)) is not None:
        await message.nack(requeue=True)
        returns += 1
        assert returns <= DELIVERY_LIMIT + 1
    assert returns == DELIVERY_LIMIT + 1
    dead = await channel.get_queue(topology.dead_queue)

    async def dead_letter() -> aio_pika.abc.AbstractIncomingMessage | None:
        return await dead.get(fail=False)  # at-least-once dead-lettering lands a moment later

    letter = await wait_for(dead_letter, what="the message in dead")
    assert letter.body == b"7"
    await letter.ack()


async def test_viewer_queues_stay_classic_on_a_quorum_plant(
    settings: Settings, channel: aio_pika.abc.AbstractChannel
) -> None:
    topology = Topology(settings.plant, "quorum")
    viewer = await topology.viewer(channel)
    facts = await queue_facts(settings.plant)  # a process's own queue: under the plant's name
    assert viewer.name.startswith(f"{settings.plant}.own.")
    assert facts[viewer.name]["type"] == "classic", facts[viewer.name]
    requests = await topology.requests(channel)
    assert (await queue_facts(settings.plant))[requests.name]["type"] == "classic"


async def test_a_plant_with_queues_of_the_other_type_is_one_line(
    settings: Settings, channel: aio_pika.abc.AbstractChannel
) -> None:
    await Topology(settings.plant, "classic").persist(channel)
    result = await asyncio.to_thread(worker, settings, "datamanager", "--queue-type", "quorum")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert f"queue {settings.plant}.dead is not a quorum queue" in line
    assert "controlroom-worker broker migrate-queues --to quorum" in line
    assert "Traceback" not in result.stderr


async def test_migration_moves_every_message_in_order_and_can_run_again(
    settings: Settings, channel: aio_pika.abc.AbstractChannel
) -> None:
    old = Topology(settings.plant, "classic")
    await old.readings(channel, SOURCE)
    await old.persist(channel)
    readings, persist = old.readings_queue(SOURCE), old.persist_queue
    await publish(channel, readings, range(1_200))
    await publish(channel, persist, range(300))
    await publish(channel, old.dead_queue, range(3))

    # Not while anyone consumes: the plant must be stopped.
    someone = await aio_pika.connect(settings.amqp_url)
    try:
        queue = await (await someone.channel()).get_queue(persist)

        async def hold(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            pass  # never acked

        await queue.consume(hold)
        migrate = ("broker", "migrate-queues", "--to", "quorum")
        refused = await asyncio.to_thread(worker, settings, *migrate)
    finally:
        await someone.close()  # what it held unacked is back on its queue
    assert refused.returncode == 2
    assert "has consumers: stop every process of plant" in refused.stderr

    moved = await asyncio.to_thread(
        worker, settings, "broker", "migrate-queues", "--to", "quorum", "--source", SOURCE
    )
    assert moved.returncode == 0, moved.stderr
    assert f"{readings}: a quorum queue, 1200 messages moved over" in moved.stdout
    assert f"{persist}: a quorum queue, 300 messages moved over" in moved.stdout
    facts = await queue_facts(settings.plant)
    assert {facts[name]["type"] for name in (readings, persist, old.dead_queue)} == {"quorum"}
    assert not [name for name in facts if ".migrating." in name], facts

    again = await asyncio.to_thread(
        worker, settings, "broker", "migrate-queues", "--to", "quorum", "--source", SOURCE
    )
    assert again.returncode == 0, again.stderr
    assert f"{readings}: a quorum queue, 0 messages moved over" in again.stdout

    quorum = dataclasses.replace(settings, queue_type="quorum")
    assert Topology.of(quorum).queue_type == "quorum"
    assert await take_all(channel, readings) == list(range(1_200))
    assert await take_all(channel, persist) == list(range(300))
    assert await take_all(channel, old.dead_queue) == list(range(3))
