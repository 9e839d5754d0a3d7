"""A quorum queue on the local cluster keeps every confirmed message when its leader is lost.

The queue is declared through one node and replicated on all three. A publisher on a second
node keeps publishing with confirms while the leader's node is stopped gracefully (or killed
with kill -9); the queue carries on on the two left, the node comes back and rejoins, and a
consumer on the returned node finds every confirmed message, once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator

import aio_pika
import pytest

from devsupport.cluster import LocalCluster, QuorumQueue
from tests.support import TEST_PLANT_PREFIX, wait_for

pytestmark = pytest.mark.cluster

log = logging.getLogger(__name__)

NODES = frozenset({1, 2, 3})
CONFIRMED_BEFORE = 2_000  # confirmed before the fault
CONFIRMED_AFTER = 1_000  # confirmed after the leader's node is gone
WINDOW = 100  # publishes in flight


@pytest.fixture
async def queue_name(cluster: LocalCluster) -> AsyncIterator[str]:
    name = f"{TEST_PLANT_PREFIX}{secrets.token_hex(5)}.quorum"
    try:
        yield name
    finally:
        connection = await aio_pika.connect((await cluster.urls())[0])
        try:
            await (await connection.channel()).queue_delete(name)
        finally:
            await connection.close()


class Publisher:
    """Numbered persistent messages with publisher confirms, `WINDOW` in flight."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel, queue: str) -> None:
        self.channel = channel
        self.queue = queue
        self.sent = 0
        self.confirmed: set[int] = set()
        self.refused: set[int] = set()
        self.last_confirm = time.monotonic()
        self.longest_pause = 0.0  # between two confirms: what a node's loss costs a publisher

    async def publish(self, count: int) -> None:
        for start in range(0, count, WINDOW):
            await asyncio.gather(*(self._one() for _ in range(min(WINDOW, count - start))))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.publish(WINDOW)

    async def _one(self) -> None:
        number = self.sent
        self.sent += 1
        message = aio_pika.Message(
            str(number).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        )
        try:
            await self.channel.default_exchange.publish(message, routing_key=self.queue)
        except aio_pika.exceptions.DeliveryError:
            self.refused.add(number)  # nacked: may or may not be in the queue
        else:
            self.confirmed.add(number)
            now = time.monotonic()
            self.longest_pause = max(self.longest_pause, now - self.last_confirm)
            self.last_confirm = now


async def replicated_everywhere(cluster: LocalCluster, name: str, via: int) -> QuorumQueue | None:
    queue = await cluster.quorum_queue(name, via)
    if queue and queue.leader and queue.members == NODES and queue.online == NODES:
        return queue
    return None


async def drain(url: str, name: str) -> list[int]:
    """Every message in the queue, consumed with acks through the node at `url`."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1_000)
        queue = await channel.declare_queue(name, passive=True)
        expected = queue.declaration_result.message_count
        assert expected is not None
        received: list[int] = []

        async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            received.append(int(message.body))
            await message.ack()

        await queue.consume(keep)

        async def all_in() -> bool:
            return len(received) >= expected

        await wait_for(all_in, timeout=30, what=f"{expected} messages from {name}")
        return received
    finally:
        await connection.close()


@pytest.mark.parametrize("fault", ["stop", "kill -9"])
async def test_quorum_queue_keeps_confirmed_messages_when_the_leader_goes(
    cluster: LocalCluster, queue_name: str, fault: str
) -> None:
    connection = await aio_pika.connect(await cluster.url(1))
    try:
        channel = await connection.channel()
        await channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
    finally:
        await connection.close()
    queue = await wait_for(
        lambda: replicated_everywhere(cluster, queue_name, via=1),
        what="the queue's replicas online on all three nodes",
    )
    assert queue is not None and queue.leader is not None
    leader = queue.leader
    publishing, consuming = sorted(NODES - {leader})

    publisher_connection = await aio_pika.connect(await cluster.url(publishing))
    try:
        publisher = Publisher(await publisher_connection.channel(), queue_name)
        await publisher.publish(CONFIRMED_BEFORE)
        assert len(publisher.confirmed) == CONFIRMED_BEFORE
        publisher.longest_pause = 0.0
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(publisher.run(stop))
            try:
                began = time.monotonic()
                if fault == "stop":
                    await cluster.stop_node(leader)
                else:
                    await cluster.kill_node(leader)
                gone_at = len(publisher.confirmed)
                gone = time.monotonic()

                async def new_leader() -> QuorumQueue | None:
                    seen = await cluster.quorum_queue(queue_name, via=publishing)
                    return seen if seen and seen.leader in NODES - {leader} else None

                elected = await wait_for(
                    new_leader, timeout=30, what="a leader on the two nodes left"
                )
                assert elected is not None
                log.info(
                    "crc%d (leader) %s took %.1f s; crc%d leads %.1f s after the fault began",
                    leader, fault, gone - began, elected.leader, time.monotonic() - began,
                )  # fmt: skip

                async def confirmed_after() -> bool:
                    return len(publisher.confirmed) >= gone_at + CONFIRMED_AFTER

                await wait_for(confirmed_after, timeout=30, what="confirms without the leader")
            finally:
                stop.set()
    finally:
        await publisher_connection.close()

    log.info(
        "longest pause between confirms: %.0f ms; %d confirmed, %d refused, %d sent",
        publisher.longest_pause * 1000, len(publisher.confirmed), len(publisher.refused),
        publisher.sent,
    )  # fmt: skip
    back = time.monotonic()
    await cluster.start_node(leader)
    assert leader in await cluster.running_members(via=consuming)
    await wait_for(
        lambda: replicated_everywhere(cluster, queue_name, via=leader),
        timeout=30,
        what="the returned node's replica online again",
    )
    log.info("crc%d back with its replica online in %.1f s", leader, time.monotonic() - back)

    received = await drain(await cluster.url(leader), queue_name)
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert publisher.confirmed <= set(received), "a confirmed message was lost"
    assert set(received) <= set(range(publisher.sent))
