"""Connecting to RabbitMQ: one robust connection per process, with errors an operator can read."""

from __future__ import annotations

import asyncio
import logging
import time

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from controlroom import metrics
from controlroom.config import Settings
from controlroom.errors import BrokerUnreachable, describe

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
RECONNECT_INTERVAL_S = 1.0


async def connect(settings: Settings, role: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself after a broker outage.

    Only the first attempt can fail (BrokerUnreachable): once connected, aio-pika restores
    channels, queues, bindings and consumers on every reconnect.
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
        metrics.RECONNECTS.inc()
        if self._since is None:
            log.info("broker connection restored")
        else:
            log.info("broker connection restored after %.1f s", time.monotonic() - self._since)
        self._since = None
