"""The control room's line to the broker: live events in, acknowledgements and stops out.

One robust connection. The viewer queue (exclusive, auto-delete, bounded) is bound to every
event; aio-pika restores it after an outage, and we then ask the coordinator for a fresh
snapshot, because whatever happened during the outage was never queued for us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustQueue,
)

from controlroom import amqp
from controlroom.config import Settings
from controlroom.messages import (
    AckRequest,
    InvalidMessage,
    Message,
    SnapshotRequest,
    Stop,
    decode,
    encode,
    now_us,
)
from controlroom.topology import Topology, json_message
from controlroom.waiting import within

log = logging.getLogger(__name__)

RETRY_S = 2.0
CHECK_S = 5.0  # how often the consumer is checked for a replaced channel


@dataclass(frozen=True, slots=True)
class BrokerState:
    connected: bool
    detail: str = ""


class NotConnected(ConnectionError):
    """The broker is unreachable just now; the action can be retried once it is back."""


class LiveFeed:
    """Follows the plant's events; `run` lives as long as the control room."""

    def __init__(
        self,
        settings: Settings,
        on_message: Callable[[Message], None],
        on_state: Callable[[BrokerState], None],
    ) -> None:
        self._settings = settings
        self._topology = Topology(settings.plant)
        self._on_message = on_message
        self._on_state = on_state
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractRobustQueue | None = None
        self._resync = asyncio.Event()
        self._consuming_on: aiormq.abc.AbstractChannel | None = None
        self.connected = False
        self.bad_messages = 0

    async def run(self) -> None:
        """Connect (retrying until the broker answers), subscribe, then follow until cancelled."""
        try:
            self._connection = await self._connect()
            self._channel = await self._connection.channel()
            assert self._channel is not None
            self._queue = await self._topology.viewer(self._channel, "#")  # type: ignore[assignment]
            assert self._queue is not None
            await self._declare_requests(self._connection)
            await self._consume()
            self._connection.reconnect_callbacks.add(self._reconnected)
            self._connection.close_callbacks.add(self._closed)
            self._set_state(True)
            self._resync.set()
            while True:  # until cancelled
                with contextlib.suppress(TimeoutError):
                    await within(self._resync.wait(), CHECK_S)
                try:
                    if self._resync.is_set():
                        self._resync.clear()
                        await self._consume()
                        await self.request_snapshot()
                    else:
                        await self._consume()  # only if the channel was replaced meanwhile
                except Exception as error:  # the next round tries again
                    log.warning("resubscribing failed: %s", amqp.describe(error))
        finally:
            await self._close()

    async def _consume(self) -> None:
        """Consume on the channel's own aiormq channel: aio-pika's consumer path costs two tasks
        and a message object per delivery, about a third of the UI's CPU at 2,000 messages a
        second. The robust channel does not restore this consumer, so after a reconnect (or
        any replacement of the channel) it is made again here."""
        assert self._channel is not None and self._queue is not None
        underlay = await self._channel.get_underlay_channel()
        if underlay is self._consuming_on:
            return
        await underlay.basic_consume(self._queue.name, self._deliver, no_ack=True)
        self._consuming_on = underlay

    async def _declare_requests(self, connection: AbstractRobustConnection) -> None:
        """The coordinator's request queue, declared so a request waits for a coordinator that
        starts later. On a channel of its own: a declaration that differs from the broker's
        closes the channel it is made on, and live events must not depend on it."""
        try:
            channel = await connection.channel()
            try:
                await self._topology.requests(channel)
            finally:
                if not channel.is_closed:
                    await channel.close()
        except aio_pika.exceptions.AMQPError as error:
            log.warning("could not declare the requests queue: %s", amqp.describe(error))

    async def request_snapshot(self) -> None:
        if self._queue is None:
            return
        await self._publish_request(encode(SnapshotRequest()), reply_to=self._queue.name)

    async def acknowledge(self, alarm_id: str, operator: str) -> None:
        request = AckRequest(alarm_id=alarm_id, by=operator, at=now_us())
        await self._publish_request(encode(request))

    async def stop_sensor(self, sensor: str, operator: str) -> None:
        channel = self._ready_channel()
        exchange = await self._topology.control(channel)
        await exchange.publish(
            json_message(encode(Stop(sensor=sensor, by=operator)), persistent=False),
            routing_key=sensor,
        )

    async def _publish_request(self, body: bytes, reply_to: str | None = None) -> None:
        channel = self._ready_channel()
        properties = {"reply_to": reply_to} if reply_to else {}
        await channel.default_exchange.publish(
            json_message(body, persistent=False, **properties),
            routing_key=self._topology.requests_queue,
        )

    def _ready_channel(self) -> AbstractRobustChannel:
        if not self.connected or self._channel is None:
            raise NotConnected(f"not connected to the broker at {self._settings.amqp_display}")
        return self._channel

    async def _connect(self) -> AbstractRobustConnection:
        while True:
            try:
                return await amqp.connect(self._settings, "viewer")
            except amqp.BrokerUnreachable as error:
                self._set_state(False, str(error))
                await asyncio.sleep(RETRY_S)

    async def _deliver(self, message: aiormq.abc.DeliveredMessage) -> None:
        try:
            decoded = decode(message.body)
        except InvalidMessage as error:
            self.bad_messages += 1
            log.warning("ignored a bad event (%s): %s", message.routing_key, error)
            return
        self._on_message(decoded)

    def _reconnected(self, connection: object) -> None:
        self._set_state(True)
        self._resync.set()  # `run` asks for a fresh snapshot

    def _closed(self, connection: object, error: BaseException | None = None) -> None:
        if isinstance(error, asyncio.CancelledError) or error is None:
            return
        self._set_state(
            False,
            f"lost the broker at {self._settings.amqp_display}: "
            f"{amqp.describe(error)}; reconnecting",
        )

    def _set_state(self, connected: bool, detail: str = "") -> None:
        self.connected = connected
        self._on_state(BrokerState(connected, detail))

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        self.connected = False
        if connection is not None and not connection.is_closed:
            await connection.close()
