"""Sending: messages as every process sends them, and publishing with a confirm."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange
from aiormq.abc import DeliveredMessage

from controlroom.errors import Unroutable
from controlroom.wire.codec import CONTENT_TYPE


def json_message(body: bytes, *, persistent: bool, **properties: Any) -> aio_pika.Message:
    """A message as every process sends it."""
    return aio_pika.Message(
        body,
        content_type=CONTENT_TYPE,
        delivery_mode=(
            aio_pika.DeliveryMode.PERSISTENT if persistent else aio_pika.DeliveryMode.NOT_PERSISTENT
        ),
        **properties,
    )


async def publish_confirmed(
    exchange: AbstractExchange,
    body: bytes,
    routing_key: str,
    *,
    timeout: float,
    redeclare: Callable[[], Awaitable[object]],
) -> None:
    """Publish a persistent message and return once the broker has it, or raise.

    Published mandatory: a message that no queue took (someone deleted the queue) comes back
    before its confirm. Then the queue is declared again with `redeclare` and Unroutable is
    raised, so the caller keeps the data and retries; a confirm alone would have lost it.
    """
    result = await exchange.publish(
        json_message(body, persistent=True),
        routing_key=routing_key,
        mandatory=True,
        timeout=timeout,
    )
    if isinstance(result, DeliveredMessage):
        await redeclare()
        raise Unroutable(f"no queue took a message for {routing_key!r}; declared it again")
