"""Connecting to RabbitMQ: one robust connection per process, with errors an operator can read."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from controlroom.config import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
RECONNECT_INTERVAL_S = 1.0


class BrokerUnreachable(ConnectionError):
    """The first connection failed; the text is one line naming the (masked) URL."""


async def connect(settings: Settings, role: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself after a broker outage.

    Only the first attempt can fail: once connected, aio-pika restores channels, queues,
    bindings and consumers on every reconnect.
    """
    try:
        connection = await aio_pika.connect_robust(
            settings.amqp_url,
            timeout=CONNECT_TIMEOUT_S,
            reconnect_interval=RECONNECT_INTERVAL_S,
            client_properties={"connection_name": f"controlroom {role} ({settings.plant})"},
        )
    except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as error:
        raise BrokerUnreachable(
            f"cannot reach the broker at {settings.amqp_display}: {describe(error)}"
        ) from None
    outage = _Outage()
    connection.reconnect_callbacks.add(outage.ended)
    connection.close_callbacks.add(outage.began)
    return connection


def describe(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    if isinstance(error, aio_pika.exceptions.ChannelInvalidStateError):
        return "the channel to the broker is closed"  # its text is an object's repr
    text = str(error) or type(error).__name__
    return text.splitlines()[0] if text else type(error).__name__


class _Outage:
    """One log line when the broker goes away and one when it is back, however many
    reconnection attempts fail in between (each one closes the connection again)."""

    def __init__(self) -> None:
        self._since: float | None = None

    def began(self, connection: object, error: BaseException | None = None) -> None:
        if error is None or isinstance(error, asyncio.CancelledError):
            return  # closed on purpose
        if self._since is None:
            self._since = time.monotonic()
            log.warning("broker connection lost (%s); reconnecting", describe(error))
        else:
            log.debug("reconnecting failed: %s", describe(error))

    def ended(self, connection: object) -> None:
        if self._since is None:
            log.info("broker connection restored")
        else:
            log.info("broker connection restored after %.1f s", time.monotonic() - self._since)
        self._since = None
