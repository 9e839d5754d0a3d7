"""Connecting to RabbitMQ: one robust connection per process, to any node of a list, with
errors an operator can read.

A process is given one broker address or several (the nodes of a cluster, `Settings.amqp_urls`).
It starts at a random one, so the processes of a plant spread over the nodes, and tries each in
turn until one answers. Once connected, aio-pika's robust connection restores channels, queues,
bindings and consumers after every loss; `_ClusterConnection` makes each reconnection attempt
go to the next address, so losing a node costs one reconnect interval, never a wait for that
node to come back. An `amqps://` address is verified with the context `controlroom.tls` makes
from the settings' CA file (and shows the client certificate, if one is given).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aio_pika.connection import make_url
from aio_pika.robust_connection import RobustConnection
from yarl import URL

from controlroom import metrics
from controlroom.config import Settings, mask_url
from controlroom.errors import BrokerUnreachable, describe
from controlroom.tls import client_context

log = logging.getLogger(__name__)


class _QuietFailedAttempts(logging.Filter):
    """aiormq logs each failed attempt itself ("error when creating transport: <repr>"), a second
    and less readable line for what `connect` and the outage lines already say."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error when creating transport")


logging.getLogger("aiormq.connection").addFilter(_QuietFailedAttempts())

CONNECT_TIMEOUT_S = 10.0
RECONNECT_INTERVAL_S = 1.0


async def connect(settings: Settings, role: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself after a broker outage, to any of the addresses.

    Only the first round can fail (BrokerUnreachable, once every address refused): once
    connected, every loss is followed by attempts at the next address, then the next, forever.
    """
    urls = tuple(make_url(url) for url in settings.amqp_urls)
    context = tls_context(settings)
    first = random.randrange(len(urls))
    failures: list[str] = []
    for offset in range(len(urls)):
        index = (first + offset) % len(urls)
        connection = _ClusterConnection(
            urls,
            index,
            reconnect_interval=RECONNECT_INTERVAL_S,
            ssl_context=context,
            client_properties={"connection_name": f"controlroom {role} ({settings.plant})"},
        )
        try:
            await connection.connect(timeout=CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as error:
            await connection.close()
            failures.append(f"{mask_url(str(urls[index]))}: {describe(error)}")
            continue
        if len(urls) > 1:
            log.info("connected to the broker at %s", connection.address)
        outage = _Outage()
        connection.reconnect_callbacks.add(outage.ended)
        connection.close_callbacks.add(outage.began)
        return connection
    if len(failures) == 1:
        raise BrokerUnreachable(f"cannot reach the broker at {failures[0]}")
    raise BrokerUnreachable(f"cannot reach any broker ({'; '.join(failures)})")


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The context for the settings' amqps:// addresses (None when none is amqps://): for a
    tool that opens a plain aio-pika connection of its own (tests, the bench)."""
    if not any(url.startswith("amqps://") for url in settings.amqp_urls):
        return None
    return client_context(settings.amqp_tls, "broker TLS")


class _ClusterConnection(RobustConnection):
    """A robust connection whose every reconnection attempt goes to the next address.

    aio-pika calls `_on_connection_close` both when an open connection is lost and when an
    attempt fails; the attempt after it (one reconnect interval later) reads `self.url`.
    """

    def __init__(self, urls: tuple[URL, ...], index: int, **kwargs: Any) -> None:
        super().__init__(urls[index], **kwargs)
        self._urls = urls
        self._index = index

    @property
    def address(self) -> str:
        """The address in use (or tried next), its password masked."""
        return mask_url(str(self.url))

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        await super()._on_connection_close(closing)
        if len(self._urls) > 1 and not self._close_called:
            self._index = (self._index + 1) % len(self._urls)
            self.url = self._urls[self._index]


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
            log.warning(
                "broker connection lost at %s (%s); reconnecting", _address(connection),
                describe(error),
            )  # fmt: skip
        else:
            log.debug("reconnecting failed: %s", describe(error))

    def ended(self, connection: object) -> None:
        metrics.RECONNECTS.inc()
        if self._since is None:
            log.info("broker connection restored at %s", _address(connection))
        else:
            log.info(
                "broker connection restored at %s after %.1f s", _address(connection),
                time.monotonic() - self._since,
            )  # fmt: skip
        self._since = None


def _address(connection: object) -> str:
    return connection.address if isinstance(connection, _ClusterConnection) else "the broker"
