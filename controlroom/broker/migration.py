"""Moving a plant's durable queues to another queue type without losing a message.

A queue's type is fixed when it is declared, a policy cannot change it, and every process finds
its queues by name, so the only way over is to empty the queue, declare it again under the same
name, and put its messages back. Each queue goes through a holding queue of the target type
(`<plant>.migrating.<rest of the name>`):

  1. move every message from the queue to the holding queue;
  2. delete the queue (only if empty), declare it again as the topology of the target type says;
  3. move every message back, delete the holding queue (only if empty).

(Emptiness is checked before each deletion: quorum queues refuse queue.delete's if-empty.)

A move consumes with manual acks and acks a batch only once the broker confirmed every copy of
it (published in order on one channel, so order is kept): at-least-once. A move cut short
(crash, broker lost) leaves every message in one of the two queues, perhaps a batch in both;
running the command again resumes from whatever state it finds. A duplicate is harmless where
it lands: the coordinator drops readings it has seen (per sensor and run, by seq) and a stored
reading stored again is a no-op.

Why our own move rather than the shovel plugin: a shovel is just such a consumer-publisher,
with the same two steps needed, but it runs inside the broker (a plugin to enable on every
node, polled to know when it is done); this needs nothing but AMQP and tells when it is done.

The plant must be stopped (sources too: a source publishing meanwhile would declare the queue
again with the old type); a queue with consumers is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aiormq.abc import DeliveredMessage

from controlroom.broker.topology import Topology
from controlroom.errors import ControlroomError, QueueMismatch
from controlroom.waiting import within

log = logging.getLogger(__name__)

BATCH = 500  # messages moved per confirm round
IDLE_S = 30.0  # a queue that says it holds messages but delivers none for this long: an error


@dataclass(frozen=True, slots=True)
class Moved:
    queue: str
    messages: int  # moved back into the queue of the new type (0: it was already of that type)


Declare = Callable[[AbstractChannel], Awaitable[object]]


async def migrate_queues(
    connection: AbstractRobustConnection, plant: str, target: str, sources: Sequence[str]
) -> list[Moved]:
    """Every durable queue of the plant (readings of `sources`, persist, dead) made a `target`
    queue with its messages; queues that do not exist are left alone."""
    topology = Topology(plant, target)
    queues: dict[str, Declare] = {
        topology.dead_queue: topology.dead,
        topology.persist_queue: topology.persist,
    }
    for source in sources:
        queues[topology.readings_queue(source)] = _readings(topology, source)
    moved = []
    present = []
    for name in queues:
        holding = _holding_name(plant, name)
        here, there = await _consumers(connection, name), await _consumers(connection, holding)
        if here is None and there is None:
            continue
        if (here or 0) + (there or 0):
            raise ControlroomError(
                f"queue {name} has consumers: stop every process of plant {plant} first"
            )
        present.append(name)
    for name in present:
        moved.append(await _migrate(connection, name, queues[name], target))
    return moved


def _readings(topology: Topology, source: str) -> Declare:
    async def declare(channel: AbstractChannel) -> object:
        return await topology.readings(channel, source)

    return declare


def _holding_name(plant: str, name: str) -> str:
    return f"{plant}.migrating.{name.removeprefix(plant + '.')}"


async def _migrate(
    connection: AbstractRobustConnection, name: str, declare: Declare, target: str
) -> Moved:
    holding = _holding_name(name.partition(".")[0], name)
    holding_arguments = {"x-queue-type": target} if target == "quorum" else {}
    if not await _is_of_target(connection, declare):
        count = await _move(connection, name, holding, holding_arguments)
        log.info("%s: %d messages moved to %s", name, count, holding)
        await _delete_emptied(connection, name)
        channel = await connection.channel()
        try:
            await declare(channel)
        finally:
            await _close(channel)
        log.info("%s declared again as a %s queue", name, target)
    elif await _consumers(connection, holding) is None:
        log.info("%s is a %s queue already", name, target)
        return Moved(name, 0)
    count = await _move(connection, holding, name, None)
    await _delete_emptied(connection, holding)
    log.info("%s: %d messages back, %s removed", name, count, holding)
    return Moved(name, count)


async def _delete_emptied(connection: AbstractRobustConnection, name: str) -> None:
    """Delete a queue just emptied, unless a message came in meanwhile (quorum queues do not
    take queue.delete's if-empty flag, so it is checked here)."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
        count = int(queue.declaration_result.message_count or 0)
        if count:
            raise ControlroomError(
                f"queue {name} took {count} new messages while it was moved: is a process of "
                "the plant still running? Stop it and run the command again"
            )
        await channel.queue_delete(name)
    finally:
        await _close(channel)


async def _is_of_target(connection: AbstractRobustConnection, declare: Declare) -> bool:
    """Declare the queue as the target topology does, on a channel of its own (a refusal
    closes it): refused means the queue is of the other type."""
    channel = await connection.channel()
    try:
        await declare(channel)
    except QueueMismatch:
        return False
    finally:
        await _close(channel)
    return True


async def _consumers(connection: AbstractRobustConnection, name: str) -> int | None:
    """The queue's consumers; None if there is no such queue."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return None
    finally:
        await _close(channel)
    return int(queue.declaration_result.consumer_count or 0)


async def _move(
    connection: AbstractRobustConnection,
    source: str,
    destination: str,
    arguments: dict[str, Any] | None,
) -> int:
    """Every message of `source` into `destination` (declared with `arguments` unless None),
    each batch acked once all its copies are confirmed."""
    channel = await connection.channel()  # publisher confirms on
    try:
        if arguments is not None:
            await channel.declare_queue(destination, durable=True, arguments=arguments)
        await channel.set_qos(prefetch_count=BATCH)
        queue = await channel.declare_queue(source, passive=True)
        left = int(queue.declaration_result.message_count or 0)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        tag = await queue.consume(inbox.put)
        moved = 0
        while moved < left:
            try:
                batch = [await within(inbox.get(), IDLE_S)]
            except TimeoutError:
                raise ControlroomError(
                    f"queue {source} delivered {moved} of its {left} messages, then none for "
                    f"{IDLE_S:.0f} s: is a process of the plant still running?"
                ) from None
            while not inbox.empty() and len(batch) < BATCH:
                batch.append(inbox.get_nowait())
            results = await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        _copy(message), routing_key=destination, mandatory=True
                    )
                    for message in batch
                )
            )
            if any(isinstance(result, DeliveredMessage) for result in results):
                raise ControlroomError(f"queue {destination} vanished while moving into it")
            await batch[-1].ack(multiple=True)
            moved += len(batch)
        await queue.cancel(tag)
        return moved
    finally:
        await _close(channel)


def _copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    """The message as it was published (the broker's delivery count stays behind)."""
    headers = {k: v for k, v in (message.headers or {}).items() if k != "x-delivery-count"}
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )


async def _close(channel: AbstractChannel) -> None:
    if not channel.is_closed:
        await channel.close()
