"""The viewer feed: one line to the plant's events for the control room and the bridge alike.

A viewer has its own queue on the events exchange (exclusive, auto-delete, bounded, see
`topology.viewer`), consumed without acks: a live view has nothing to redeliver. It asks the
coordinator for a snapshot when it starts, after every reconnect (whatever happened during the
outage was never queued for it) and whenever its owner asks (a frame named a sensor it does
not know), at most once per SNAPSHOT_INTERVAL_S so a burst of questions costs one request.

Deliveries are consumed on the channel's own aiormq channel: aio-pika's consumer path costs
two tasks and a message object per delivery, a third of a viewer's CPU at 2,000 messages a
second. The robust channel does not restore such a consumer, so it is made again whenever the
channel was replaced (after a reconnect, and checked every CHECK_S).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from controlroom.broker.connection import connect
from controlroom.broker.publishing import json_message
from controlroom.broker.topology import Topology
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.errors import (
    ActionRefused,
    BrokerUnreachable,
    ConfigError,
    InvalidMessage,
    NotConnected,
    QueueMismatch,
    describe,
)
from controlroom.plant.alarm_limits import AlarmLimit, Level, check_limits
from controlroom.plant.alarms import HoldKind
from controlroom.waiting import within
from controlroom.wire.codec import Decoder, Message, encode
from controlroom.wire.envelopes import (
    AckRequest,
    CommentRequest,
    HoldRequest,
    LimitsRequest,
    SnapshotRequest,
    Stop,
)

log = logging.getLogger(__name__)

RETRY_S = 2.0
CHECK_S = 5.0
SNAPSHOT_INTERVAL_S = 2.0
ACTION_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class BrokerState:
    connected: bool
    detail: str = ""


class ViewerFeed:
    """Follows the plant's events for one viewer; `run` lives as long as the viewer."""

    def __init__(
        self,
        settings: Settings,
        role: str,
        on_message: Callable[[Message], None],
        on_state: Callable[[BrokerState], None] = lambda state: None,
        *,
        patterns: tuple[str, ...] = ("#",),
    ) -> None:
        self._settings = settings
        self._role = role
        self._topology = Topology.of(settings)
        self._on_message = on_message
        self._on_state = on_state
        self._patterns = patterns
        self._decoder = Decoder()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._actions: AbstractChannel | None = None  # operator actions, with confirms
        self._queue: AbstractQueue | None = None
        self._consuming_on: aiormq.abc.AbstractChannel | None = None
        self._resubscribe = asyncio.Event()
        self._snapshot_wanted = asyncio.Event()
        self.connected = False
        self.bad_messages = 0

    # --- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect once and subscribe; BrokerUnreachable if the broker is not there."""
        connection = await connect(self._settings, self._role)
        try:
            await self._subscribe(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    async def run(self) -> None:
        """Follow the events until cancelled; connects first (retrying) unless `start` did."""
        try:
            while self._connection is None:
                try:
                    await self.start()
                except BrokerUnreachable as error:
                    self._set_state(False, str(error))
                    await asyncio.sleep(RETRY_S)
                except aio_pika.exceptions.AMQPError as error:  # lost again while subscribing
                    self._set_state(False, f"subscribing failed: {describe(error)}")
                    await asyncio.sleep(RETRY_S)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._keep_consuming(), name="keep consuming")
                tasks.create_task(self._send_snapshot_requests(), name="snapshot requests")
        finally:
            await self.close()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self.connected = False
        if connection is not None and not connection.is_closed:
            await connection.close()

    def request_snapshot(self) -> None:
        """Ask the coordinator for every source and open alarm soon; never blocks."""
        self._snapshot_wanted.set()

    # --- operator actions ------------------------------------------------------------------
    # Each carries the login as `user_id`, which the broker checks against the connection's
    # user (a mismatch is refused): who acted is what the broker vouches for, whatever the
    # body says. `operator` is a display name only; the coordinator records the login.

    # Each is a request the coordinators' requests queue takes, through the actions exchange
    # that only operators may publish to (one coordinator applies it and tells the others); a
    # mistake an operator can make is one ConfigError line, before anything is sent. What took
    # effect is in the action log and comes back as events.

    async def acknowledge(self, alarm_id: str, operator: str = "", comment: str = "") -> None:
        request = AckRequest(alarm_id, operator or self.login, now_us(), comment=comment)
        await self._act(self._topology.actions, "", encode(request), "acknowledgement")

    async def acknowledge_all(
        self, alarm_ids: Iterable[str], operator: str, comment: str = ""
    ) -> int:
        """Acknowledge every alarm listed (the caller confirms first); how many were sent."""
        sent = 0
        for alarm_id in alarm_ids:
            await self.acknowledge(alarm_id, operator, comment)
            sent += 1
        return sent

    async def comment(self, alarm_id: str, operator: str, text: str) -> None:
        if not text.strip():
            raise ConfigError("a comment needs some text")
        request = CommentRequest(alarm_id, operator or self.login, now_us(), text=text)
        await self._act(self._topology.actions, "", encode(request), "comment")

    async def shelve(
        self, sensor: str, level: Level, operator: str, reason: str, for_s: float | None
    ) -> None:
        """Shelve an alarm point for `for_s` seconds (at most the plant's maximum), or, with
        None, until its alarm clears (one-shot)."""
        longest = self._settings.max_shelve_s
        if for_s is not None and not 0 < for_s <= longest:
            raise ConfigError(f"an alarm can be shelved for up to {longest / 3600:g} h")
        await self._hold(sensor, level, HoldKind.SHELVED, operator, reason, for_s)

    async def suppress(self, sensor: str, level: Level, operator: str, reason: str) -> None:
        """Suppressed by design (the plant's state makes the alarm meaningless)."""
        await self._hold(sensor, level, HoldKind.SUPPRESSED, operator, reason)

    async def remove_from_service(
        self, sensor: str, level: Level, operator: str, reason: str
    ) -> None:
        await self._hold(sensor, level, HoldKind.OUT_OF_SERVICE, operator, reason)

    async def release(self, sensor: str, level: Level, operator: str, reason: str = "") -> None:
        """Unshelve, unsuppress or return to service: whatever holds the point ends."""
        await self._hold(sensor, level, None, operator, reason)

    async def change_limits(
        self, sensor: str, limits: list[AlarmLimit], operator: str, reason: str
    ) -> None:
        """Replace a sensor's alarm definitions (every running coordinator applies them)."""
        if not reason.strip():
            raise ConfigError("a change of alarm limits needs a reason")
        check_limits(limits)
        request = LimitsRequest(sensor, limits, operator or self.login, now_us(), reason)
        await self._act(self._topology.actions, "", encode(request), "change of alarm limits")

    async def _hold(
        self,
        sensor: str,
        level: Level,
        kind: HoldKind | None,
        operator: str,
        reason: str,
        for_s: float | None = None,
    ) -> None:
        if kind is not None and not reason.strip():
            raise ConfigError(f"a reason is needed to put an alarm {kind.value}")
        at = now_us()
        until = None if for_s is None else at + round(for_s * 1_000_000)
        request = HoldRequest(sensor, level, kind, operator or self.login, at, reason, until)
        what = f"{kind.value} request" if kind is not None else "release"
        await self._act(self._topology.actions, "", encode(request), what)

    async def stop_sensor(self, sensor: str, operator: str = "") -> None:
        """Ask for a sensor's stop: a coordinator passes it on to the sensor's source (only
        coordinators may publish to the sources' stops)."""
        body = encode(Stop(sensor=sensor, by=operator or self.login))
        await self._act(self._topology.actions, "", body, f"stop of {sensor}")

    @property
    def login(self) -> str:
        """The broker login this feed acts as (the `user_id` on its actions)."""
        return self._settings.amqp_user

    async def _act(
        self,
        exchange_of: Callable[[AbstractChannel], Awaitable[AbstractExchange]],
        routing_key: str,
        body: bytes,
        what: str,
    ) -> None:
        """Publish an action with a confirm on a channel of its own: a refusal closes that
        channel only (live events go on), and the next action opens another."""
        connection = self._ready_connection()
        if self._actions is None or self._actions.is_closed:
            self._actions = await connection.channel()
        exchange = await exchange_of(self._actions)
        message = json_message(body, persistent=False, user_id=self.login)
        try:
            await exchange.publish(message, routing_key=routing_key, timeout=ACTION_TIMEOUT_S)
        except aiormq.exceptions.ChannelClosed as error:
            self._actions = None
            reason = describe(error)
            log.warning("the broker refused the %s by %s: %s", what, self.login, reason)
            raise ActionRefused(
                f"the broker refused the {what} by {self.login}: {reason}"
            ) from None

    # --- inside ----------------------------------------------------------------------------

    async def _subscribe(self, connection: AbstractRobustConnection) -> None:
        self._channel = await connection.channel()
        self._queue = await self._topology.viewer(self._channel, *self._patterns)
        await self._topology.hear_replies(self._channel, self._queue)
        await self._declare_requests(connection)
        self._consuming_on = None
        await self._consume()
        connection.reconnect_callbacks.add(self._reconnected)
        connection.close_callbacks.add(self._lost)
        self._set_state(True)
        log.info("following %s", self._topology.events_exchange)
        self.request_snapshot()

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
        except (aio_pika.exceptions.AMQPError, QueueMismatch) as error:
            log.warning("could not declare the requests queue: %s", describe(error))

    async def _keep_consuming(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await within(self._resubscribe.wait(), CHECK_S)
            resubscribe = self._resubscribe.is_set()
            self._resubscribe.clear()
            try:
                await self._consume()  # only if the channel was replaced meanwhile
            except Exception as error:  # the next round tries again
                log.warning("resubscribing failed: %s", describe(error))
                continue
            if resubscribe:
                self.request_snapshot()

    async def _consume(self) -> None:
        assert self._channel is not None and self._queue is not None
        underlay = await self._channel.get_underlay_channel()
        if underlay is self._consuming_on:
            return
        await underlay.basic_consume(self._queue.name, self._deliver, no_ack=True)
        self._consuming_on = underlay

    async def _send_snapshot_requests(self) -> None:
        while True:
            await self._snapshot_wanted.wait()
            self._snapshot_wanted.clear()
            if self._queue is not None:
                try:
                    await self._publish_request(
                        encode(SnapshotRequest()), reply_to=self._queue.name
                    )
                except Exception as error:  # the broker is away; the reconnect asks again
                    log.warning("snapshot request not sent: %s", describe(error))
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)  # requests meanwhile merge into the next

    async def _publish_request(self, body: bytes, reply_to: str | None = None) -> None:
        channel = self._ready_channel()
        properties = {"reply_to": reply_to} if reply_to else {}
        requests = await channel.get_exchange(self._topology.requests_exchange, ensure=False)
        await requests.publish(
            json_message(body, persistent=False, **properties),
            routing_key=self._topology.requests_queue,
        )

    def _ready_connection(self) -> AbstractRobustConnection:
        if not self.connected or self._connection is None:
            raise NotConnected(f"not connected to the broker at {self._settings.amqp_display}")
        return self._connection

    def _ready_channel(self) -> AbstractRobustChannel:
        if not self.connected or self._channel is None:
            raise NotConnected(f"not connected to the broker at {self._settings.amqp_display}")
        return self._channel

    async def _deliver(self, message: aiormq.abc.DeliveredMessage) -> None:
        try:
            decoded = self._decoder.decode(message.body)
        except InvalidMessage as error:
            self.bad_messages += 1
            log.warning("ignored a bad event (%s): %s", message.routing_key, error)
            return
        try:
            self._on_message(decoded)
        except Exception:  # a bug in a viewer must cost one event, not the feed
            log.exception("could not handle a %s event", type(decoded).__name__)

    def _reconnected(self, connection: object) -> None:
        self._set_state(True)
        self._resubscribe.set()

    def _lost(self, connection: object, error: BaseException | None = None) -> None:
        if isinstance(error, asyncio.CancelledError) or error is None:
            return
        self._set_state(
            False,
            f"lost the broker at {self._settings.amqp_display}: {describe(error)}; reconnecting",
        )

    def _set_state(self, connected: bool, detail: str = "") -> None:
        self.connected = connected
        self._on_state(BrokerState(connected, detail))
