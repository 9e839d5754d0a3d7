"""Bare aio-pika programs for the raw limits: a publisher, a consumer and a relay.

Run as child processes (`python -m bench.rawamqp MODE ...`), one per role, as the workers are;
each prints one JSON line with its timings and exits. They do nothing but move messages, so
the workers' figures can be read against what aio-pika alone manages on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from controlroom.clock import now_us

WINDOW = 128


def _message(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(
        body, content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT
    )


async def publish(url: str, queue: str, count: int, size: int) -> dict[str, int]:
    """Persistent messages with publisher confirms, WINDOW of them in flight."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        body = b"x" * size
        window = asyncio.Semaphore(WINDOW)

        async def one() -> None:
            try:
                await channel.default_exchange.publish(_message(body), routing_key=queue)
            finally:
                window.release()

        started = now_us()
        tasks = []
        for _ in range(count):
            await window.acquire()
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        return {"start_us": started, "end_us": now_us(), "count": count}


async def consume(url: str, queue: str, count: int, prefetch: int) -> dict[str, int]:
    """Manual acks, one per message."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=prefetch)
        source = await channel.declare_queue(queue, durable=True)
        return await _counted(source, count)


async def relay(
    url: str, source_name: str, target: str, count: int, prefetch: int
) -> dict[str, int]:
    """What a minimal coordinator does per message: consume, publish with a confirm, then ack."""
    connection = await aio_pika.connect(url)
    async with connection:
        consuming = await connection.channel(publisher_confirms=False)
        await consuming.set_qos(prefetch_count=prefetch)
        publishing = await connection.channel()
        await publishing.declare_queue(target, durable=True)
        source = await consuming.declare_queue(source_name, durable=True, passive=True)

        async def forward(body: bytes) -> None:
            await publishing.default_exchange.publish(_message(body), routing_key=target)

        return await _counted(source, count, forward)


async def _counted(
    source: AbstractQueue, count: int, forward: Callable[[bytes], Awaitable[None]] | None = None
) -> dict[str, int]:
    """Take `count` messages (each forwarded first, if asked, then acked); the window they took
    from the first message's arrival to the last one's ack."""
    done = asyncio.Event()
    seen = {"count": 0, "first_us": 0}

    async def on_message(message: AbstractIncomingMessage) -> None:
        if not seen["first_us"]:
            seen["first_us"] = now_us()
        if forward is not None:
            await forward(message.body)
        await message.ack()
        seen["count"] += 1
        if seen["count"] >= count:
            done.set()

    await source.consume(on_message)
    await done.wait()
    return {"start_us": seen["first_us"], "end_us": now_us(), "count": seen["count"]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rawamqp")
    parser.add_argument("mode", choices=["publish", "consume", "relay"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--target", default="")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--prefetch", type=int, default=256)
    args = parser.parse_args()
    if args.mode == "publish":
        result = asyncio.run(publish(args.url, args.queue, args.count, args.size))
    elif args.mode == "consume":
        result = asyncio.run(consume(args.url, args.queue, args.count, args.prefetch))
    else:
        result = asyncio.run(relay(args.url, args.queue, args.target, args.count, args.prefetch))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
