"""The coordinator's wiring to the broker: inbound queues in, persist batches and events out.

One processing loop takes whatever has arrived (frames from every source, announcements,
requests), turns it into events for the handlers, then sends what they produced: viewer events
at once, one persist batch per round with a publisher confirm. Inbound messages are acked only
after their batch is confirmed, so a crash anywhere leaves them on their queue. Confirms are
pipelined: the loop goes on while earlier batches wait for theirs.

Several coordinators share the sources (`sharing.py`): each consumes the readings queues of its
share, one channel per source. A source leaving a coordinator's share is handed over so that
each reading is handled once and in order: what arrives from then on is left unhandled, what
was handled is confirmed and acked, and only then is the source's channel closed, which gives
the rest back to the queue and makes the coordinator that takes the source (waiting as the
queue's next single active consumer) the active one, in one step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

import msgspec
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import ChannelInvalidStateError

from controlroom import metrics
from controlroom.broker.connection import connect
from controlroom.broker.publishing import json_message, publish_confirmed
from controlroom.broker.topology import MIRROR_KEYS, Topology, readings_key
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.errors import InvalidMessage, QueueMismatch, describe
from controlroom.plant.readings import Frame
from controlroom.processes import DRAIN_TIMEOUT_S
from controlroom.roles import actor_of
from controlroom.waiting import within
from controlroom.wire.codec import Decoder, Message, encode
from controlroom.wire.envelopes import (
    AckRequest,
    AlarmEvent,
    Announce,
    CommentRequest,
    Discover,
    Goodbye,
    HoldEvent,
    HoldRequest,
    LimitsChange,
    LimitsRequest,
    Presence,
    SnapshotRequest,
    Stop,
)
from workers.coordinator.aggregator import EventAggregator
from workers.coordinator.events import (
    AckRequested,
    AlarmChanged,
    AlarmObserved,
    ClockTicked,
    CommentRequested,
    HoldObserved,
    HoldRequested,
    LimitsObserved,
    LimitsRequested,
    SourceAnnounced,
    SourceHandedOver,
    SourceLeft,
)
from workers.coordinator.sharing import PRESENCE_S, Peers, assign
from workers.coordinator.takeover import backlog_stored, stored_alarm_state
from workers.lifecycle import Backoff

log = logging.getLogger(__name__)

# Unacknowledged messages per consumer (per source queue). A gateway's message can carry a
# merged backlog of up to MAX_MESSAGE_READINGS readings (about 1 MB), so this bounds the memory
# a catching-up coordinator holds; 32 frames is still seconds of a 10 Hz gateway in flight.
PREFETCH = 32
ROUND_MAX_READINGS = 50_000
REBALANCE_S = 0.5  # how often the share is computed again (at once on a join or a leave)
TICK_S = 0.25
CONFIRMS_IN_FLIGHT = 8
CONFIRM_TIMEOUT_S = 30.0


class Inbound(Enum):
    READINGS = "readings"
    SENSORS = "sensors"
    REQUESTS = "requests"
    ALARMS = "alarms"
    PEERS = "peers"


@dataclass(slots=True)
class Consuming:
    """A source this coordinator consumes, on a channel of its own."""

    channel: AbstractChannel
    queue: AbstractQueue
    tag: str


@dataclass(slots=True)
class Pending:
    """A persist batch on its way, and the inbound messages to ack once it is confirmed."""

    body: bytes
    readings: int
    confirm: asyncio.Task[Exception | None]
    messages: list[AbstractIncomingMessage]


@dataclass(slots=True)
class Round:
    """What one round of handling gives to send on: sources newly announced, answers to
    snapshot requests, and operators' stops for their sources (source, stop)."""

    new_sources: list[str] = field(default_factory=list)
    replies: list[tuple[AbstractIncomingMessage, Message]] = field(default_factory=list)
    stops: list[tuple[str, Stop]] = field(default_factory=list)


# What an operator asks for; each names its actor in `by`.
OperatorRequest = TypeVar(
    "OperatorRequest", AckRequest, CommentRequest, HoldRequest, LimitsRequest, Stop
)


class Coordinator:
    def __init__(self, settings: Settings, *, persist_interval: float = 0.0) -> None:
        self.settings = settings
        self.topology = Topology.of(settings)
        self.instance = uuid.uuid4().hex
        self.aggregator = EventAggregator(persist_interval, max_shelve_s=settings.max_shelve_s)
        self.aggregator.bus.subscribe(AlarmChanged, _count_raised)
        self.decoder = Decoder()
        self._inbox: asyncio.Queue[tuple[Inbound, AbstractIncomingMessage] | None] = asyncio.Queue()
        self._consume_channel: AbstractChannel | None = None
        self._connection: AbstractRobustConnection | None = None
        self._discovery: AbstractExchange | None = None
        self._coordinators: AbstractExchange | None = None
        self._persist_entry: AbstractExchange | None = None
        self._replies: AbstractExchange | None = None
        self._stops: AbstractExchange | None = None
        # Sharing the sources with other coordinators.
        self.peers = Peers(self.instance)
        self._sources: set[str] = set()  # every source announced
        self._consuming: dict[str, Consuming] = {}
        self._refused: set[str] = set()  # queues of the other type: left for a migration
        self._handing_over: dict[str, asyncio.Task[None]] = {}
        self._skipping: set[str] = set()  # consumer tags of sources being handed over
        self._members: frozenset[str] = frozenset()
        self._mine: frozenset[str] = frozenset()
        self._assigned_for: tuple[int, frozenset[str]] | None = None
        self._rebalance_due = 0.0
        self._started = time.monotonic()
        self._batches_sent = 0  # persist batches handed to _settle ...
        self._batches_settled = 0  # ... and those confirmed and acked
        self._settled = asyncio.Event()
        self._leaving = False
        self._skipped = 0

    async def run(self, stopping: asyncio.Event) -> int:
        connection = await connect(self.settings, "coordinator")
        async with connection:
            await self._open(connection)
            connection.reconnect_callbacks.add(lambda *_: self._inbox.put_nowait(None))
            settle: asyncio.Queue[Pending] = asyncio.Queue(CONFIRMS_IN_FLIGHT)
            async with asyncio.TaskGroup() as tasks:
                persist_channel = await connection.channel()
                await self._take_over(await self.topology.persist(persist_channel))
                events_channel = await connection.channel(publisher_confirms=False)
                events = await self.topology.events(events_channel)
                self._persist_entry = await self.topology.persist_entry(persist_channel)
                self._replies = await self.topology.replies(events_channel)
                self._stops = await self.topology.stops(events_channel)
                processing = tasks.create_task(
                    self._process(tasks, persist_channel, events_channel, events, settle)
                )
                settling = tasks.create_task(self._settle(persist_channel, settle))
                presence = tasks.create_task(self._say_present(events_channel))
                await self._discover()
                log.info(
                    "coordinator %s running for plant %s", self.instance[:8], self.settings.plant
                )
                await stopping.wait()
                presence.cancel()
                # The others may take our sources now; their consumers wait (single active
                # consumer) until our connection closes, after the drain.
                await self._publish_presence(events_channel, leaving=True)
                # Between rounds, not in one: what a round handled is in a batch sent or acked,
                # so the next coordinator handles none of it again.
                self._leaving = True
                await asyncio.wait([processing], timeout=DRAIN_TIMEOUT_S / 2)
                processing.cancel()
                await asyncio.wait([processing])
                await self._drain(settle)
                settling.cancel()
                for handing_over in self._handing_over.values():
                    handing_over.cancel()
        log.info("coordinator %s stopped", self.instance[:8])
        return 0

    async def _take_over(self, persist: AbstractQueue) -> None:
        """Before the first reading: the alarm definitions, holds and open alarms, from
        PostgreSQL once the persist backlog is stored (the mirror, already bound, brings the
        other coordinators' meanwhile)."""
        await backlog_stored(persist)
        stored = await stored_alarm_state(self.settings)
        if stored is None:
            return
        for change in stored.definitions:
            self.aggregator.handle(LimitsObserved(change))
        for hold in stored.holds:
            self.aggregator.handle(HoldObserved(hold))
        for alarm in stored.alarms:
            self.aggregator.handle(AlarmObserved(alarm))
        active = sum(alarm.active for alarm in stored.alarms)
        log.info(
            "took over %d open alarms (%d active), %d sensors' definitions and %d holds",
            len(stored.alarms), active, len(stored.definitions), len(stored.holds),
        )  # fmt: skip

    async def _drain(self, settle: asyncio.Queue[Pending]) -> None:
        """On the way out, let the batches in flight be confirmed and their input acked.

        Bounded: when the broker refuses them (the persist queue full, no datamanager), the
        coordinator leaves anyway. Their input was never acked, so it stays on the sources'
        queues for the next coordinator; nothing is lost.
        """
        try:
            await within(settle.join(), DRAIN_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "leaving with persist batches unconfirmed after %.0f s; their readings stay "
                "queued for the next coordinator",
                DRAIN_TIMEOUT_S,
            )
            while not settle.empty():  # publishes still waiting for a confirm end here too
                settle.get_nowait().confirm.cancel()

    async def _open(self, connection: AbstractRobustConnection) -> None:
        self._connection = connection
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=PREFETCH)
        self._consume_channel = channel
        sensors = await self.topology.private(channel)
        await sensors.bind(await self.topology.announcements(channel), routing_key="#")
        # Presence on a queue of its own, without acks: it must not wait behind the inputs
        # that wait for a persist confirm (the prefetch window would hold it up, and a
        # coordinator not heard for seconds is taken for gone).
        self._coordinators = await self.topology.coordinators(channel)
        peers = await self.topology.peers(channel)
        await peers.consume(self._receiver(Inbound.PEERS), no_ack=True)
        await sensors.consume(self._receiver(Inbound.SENSORS))
        requests = await self.topology.requests(channel)
        await requests.consume(self._receiver(Inbound.REQUESTS))
        mirror = await self.topology.viewer(channel, *MIRROR_KEYS)
        await mirror.consume(self._receiver(Inbound.ALARMS))
        self._discovery = await self.topology.discovery(channel)

    def _receiver(self, kind: Inbound) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def receive(message: AbstractIncomingMessage) -> None:
            self._inbox.put_nowait((kind, message))

        return receive

    async def _discover(self) -> None:
        """Ask every source to announce itself: sensors started before us are found."""
        assert self._discovery is not None
        await self._discovery.publish(
            json_message(encode(Discover()), persistent=False), routing_key=""
        )

    # --- sharing the sources ---------------------------------------------------------------

    async def _say_present(self, channel: AbstractChannel) -> None:
        while True:
            await self._publish_presence(channel)
            await asyncio.sleep(PRESENCE_S)

    async def _publish_presence(self, channel: AbstractChannel, *, leaving: bool = False) -> None:
        assert self._coordinators is not None
        try:
            await self._coordinators.publish(
                json_message(encode(Presence(self.instance, leaving)), persistent=False),
                routing_key="",
            )
        except Exception as error:  # the broker is away; the others time us out or not
            log.debug("presence not sent: %s", describe(error))

    async def _rebalance(self, tasks: asyncio.TaskGroup) -> None:
        """Consume this coordinator's share of the sources, hand over the rest."""
        now = time.monotonic()
        members = self.peers.members(now)
        if members == self._members and now < self._rebalance_due:
            return
        if now < self._started + PRESENCE_S * 1.5:
            return  # the others have not all been heard yet
        self._rebalance_due = now + REBALANCE_S
        if members != self._members:
            log.info("%d coordinators share %d sources", len(members), len(self._sources))
            self._members = members
        assigned_for = (len(self._sources), members)  # sources are only ever added
        if assigned_for != self._assigned_for:
            self._mine = assign(self._sources, members).get(self.instance, frozenset())
            self._assigned_for = assigned_for
        mine = self._mine
        for source in sorted(set(self._consuming) - mine):
            self._hand_over(tasks, source)
        for source in sorted(mine - set(self._consuming) - self._refused):
            if source not in self._handing_over:  # taken back once it is handed over
                await self._consume_source(source)

    async def _consume_source(self, source: str) -> None:
        assert self._connection is not None
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=PREFETCH)
        try:
            queue = await self.topology.readings(channel, source)
        except QueueMismatch as error:  # its readings wait, queued, for a migration
            log.error("not consuming source %s: %s", source, error)
            self._refused.add(source)
            return
        tag = await queue.consume(self._receiver(Inbound.READINGS))
        self._consuming[source] = Consuming(channel, queue, tag)
        log.info("consuming readings of source %s", source)

    def _hand_over(self, tasks: asyncio.TaskGroup, source: str) -> None:
        """Called between rounds, so everything of the source handled so far is acked or in a
        persist batch already sent: those are settled before its channel closes."""
        consuming = self._consuming.pop(source)
        self._skipping.add(consuming.tag)
        self.aggregator.handle(SourceHandedOver(source))
        self._handing_over[source] = tasks.create_task(
            self._finish_hand_over(source, consuming, self._batches_sent)
        )

    async def _finish_hand_over(self, source: str, consuming: Consuming, batches: int) -> None:
        # No basic.cancel: the queue would make the next consumer active at once, and deliver it
        # newer messages than those still unacked here. Closing the channel gives those back
        # and passes the queue on in one step; until then, what arrives is skipped (at most
        # PREFETCH messages).
        try:
            await within(self._settled_up_to(batches), DRAIN_TIMEOUT_S)
        except TimeoutError:
            log.warning("handing over %s before its last batches were confirmed", source)
        try:
            if not consuming.channel.is_closed:
                await consuming.channel.close()
        except Exception as error:
            log.debug("could not close the channel of %s: %s", source, describe(error))
        self._skipping.discard(consuming.tag)
        del self._handing_over[source]
        log.info(
            "handed over source %s (after %d batches confirmed; %d messages left to the next "
            "coordinator so far)", source, batches, self._skipped,
        )  # fmt: skip

    async def _settled_up_to(self, batches: int) -> None:
        while self._batches_settled < batches:
            self._settled.clear()
            await self._settled.wait()

    # --- the processing loop ---------------------------------------------------------------

    async def _process(
        self,
        tasks: asyncio.TaskGroup,
        persist_channel: AbstractChannel,
        events_channel: AbstractChannel,
        events: AbstractExchange,
        settle: asyncio.Queue[Pending],
    ) -> None:
        while not self._leaving:
            batch = await self._next_round()
            handled: list[AbstractIncomingMessage] = []
            round_ = Round()
            for kind, message in batch:
                if kind is Inbound.READINGS and (
                    message.consumer_tag in self._skipping or _channel_gone(message)
                ):
                    # Being handed over, or its channel already closed (handed over, or lost
                    # in an outage): it goes back on its queue for whoever consumes it next,
                    # so handling it here would handle it twice.
                    self._skipped += 1
                    continue
                if kind is Inbound.PEERS:  # consumed without acks
                    with contextlib.suppress(InvalidMessage):
                        self._handle(kind, message, round_)
                    continue
                try:
                    self._handle(kind, message, round_)
                except InvalidMessage as error:
                    log.warning(
                        "rejected a message on %s (dead-lettered): %s", message.routing_key, error
                    )
                    await _settle_quietly(message.reject(requeue=False))
                    metrics.DEAD_LETTERS.inc()
                    continue
                handled.append(message)
            self.aggregator.handle(ClockTicked(now_us()))
            if not self._sources.issuperset(round_.new_sources):
                self._sources.update(round_.new_sources)
                self._rebalance_due = 0.0
            await self._publish_events(events, round_)
            persist, body = self.aggregator.persister.take_encoded()
            if persist:
                pending = self._publish_persist(
                    tasks, persist_channel, body, persist.reading_count, handled
                )
                await settle.put(pending)
                self._batches_sent += 1
            else:
                for message in handled:
                    await _settle_quietly(message.ack())
            await self._rebalance(tasks)

    async def _next_round(self) -> list[tuple[Inbound, AbstractIncomingMessage]]:
        """Whatever has arrived, waiting at most one tick for the first message."""
        batch: list[tuple[Inbound, AbstractIncomingMessage]] = []
        if self._inbox.empty():
            try:
                first = await within(self._inbox.get(), TICK_S)
            except TimeoutError:
                return batch
        else:  # busy: no waiting, and none of its cost
            first = self._inbox.get_nowait()
        items = [first]
        size = 0
        while not self._inbox.empty() and size < ROUND_MAX_READINGS:
            item = self._inbox.get_nowait()
            items.append(item)
            size += len(item[1].body) // 16 if item is not None else 0
        for item in items:
            if item is None:  # the broker connection came back: sources may have announced
                log.info("asking every source to announce again after reconnecting")
                await self._discover()
            else:
                batch.append(item)
        return batch

    def _handle(
        self,
        kind: Inbound,
        message: AbstractIncomingMessage,
        round_: Round,
    ) -> None:
        decoded = self.decoder.decode(message.body)
        if kind is Inbound.READINGS and isinstance(decoded, Frame):
            self._check_sender(message, decoded.source)
            metrics.READINGS_IN.inc(len(decoded))
            self.aggregator.frame_received(decoded)
        elif kind is Inbound.SENSORS and isinstance(decoded, Announce):
            self._check_sender(message, decoded.source)
            round_.new_sources.append(decoded.source)
            self.aggregator.handle(SourceAnnounced(decoded))
        elif kind is Inbound.SENSORS and isinstance(decoded, Goodbye):
            self._check_sender(message, decoded.source)
            self.aggregator.handle(SourceLeft(decoded))
        elif kind is Inbound.PEERS and isinstance(decoded, Presence):
            if self.peers.heard(decoded.instance, time.monotonic(), leaving=decoded.leaving):
                self._rebalance_due = 0.0
        elif kind is Inbound.REQUESTS and isinstance(decoded, SnapshotRequest):
            round_.replies.append((message, self.aggregator.registry.snapshot()))
        elif kind is Inbound.REQUESTS and isinstance(decoded, AckRequest):
            self.aggregator.handle(AckRequested(self._vouched(message, decoded)))
        elif kind is Inbound.REQUESTS and isinstance(decoded, CommentRequest):
            self.aggregator.handle(CommentRequested(self._vouched(message, decoded)))
        elif kind is Inbound.REQUESTS and isinstance(decoded, HoldRequest):
            self.aggregator.handle(HoldRequested(self._vouched(message, decoded)))
        elif kind is Inbound.REQUESTS and isinstance(decoded, LimitsRequest):
            self.aggregator.handle(LimitsRequested(self._vouched(message, decoded)))
        elif kind is Inbound.REQUESTS and isinstance(decoded, Stop):
            stop = self._vouched(message, decoded)
            source = self.aggregator.registry.source_of(stop.sensor)
            if source is None:
                raise InvalidMessage(f"a stop for {stop.sensor}, which no source announced")
            log.info("passing on the stop of %s by %s to source %s", stop.sensor, stop.by, source)
            round_.stops.append((source, stop))
        elif kind is Inbound.ALARMS and isinstance(decoded, AlarmEvent | HoldEvent | LimitsChange):
            if message.app_id != self.instance:
                self.aggregator.handle(_observed(decoded))
        else:
            raise InvalidMessage(f"{type(decoded).__name__} does not belong on {kind.value}")

    def _check_sender(self, message: AbstractIncomingMessage, source: str) -> None:
        """A source's messages come keyed by it, and the broker lets a source's login publish
        under its own key only: one that names another source in its body is refused. (A
        readings queue is also filled by the administrator's `broker migrate-queues`, through
        the default exchange, which no role may publish to.)"""
        if message.exchange and message.routing_key != readings_key(source):
            raise InvalidMessage(
                f"a message of source {source!r} sent under key {message.routing_key!r}"
            )

    def _vouched(
        self, message: AbstractIncomingMessage, request: OperatorRequest
    ) -> OperatorRequest:
        """The request with the operator the broker vouches for as its actor: the `user_id`
        the broker checked against the sender's login, never the name the body gives (a
        display name anyone can type). Only from the actions exchange, which only operators
        may publish to; anything else is refused (dead-lettered, one line)."""
        what = type(request).__name__
        if message.exchange != self.topology.actions_exchange:
            raise InvalidMessage(
                f"a {what} must come through {self.topology.actions_exchange}, "
                f"not {message.exchange or 'the default exchange'}"
            )
        actor = actor_of(message.user_id, self.settings.plant)
        if actor is None:
            raise InvalidMessage(
                f"a {what} from login {message.user_id or '(none)'} names no operator"
            )
        return msgspec.structs.replace(request, by=actor)

    async def _publish_events(
        self,
        events: AbstractExchange,
        round_: Round,
    ) -> None:
        try:
            for routing_key, event in self.aggregator.viewers.take_encoded():
                await events.publish(
                    json_message(event, persistent=False, app_id=self.instance),
                    routing_key=routing_key,
                )
            for source, stop in round_.stops:
                if self._stops is not None:
                    await self._stops.publish(
                        json_message(
                            encode(stop), persistent=False, user_id=self.settings.amqp_user
                        ),
                        routing_key=readings_key(source),
                    )
            for request, reply in round_.replies:
                if request.reply_to and self._replies is not None:
                    await self._replies.publish(
                        json_message(
                            encode(reply), persistent=False, correlation_id=request.correlation_id
                        ),
                        routing_key=request.reply_to,
                    )
        except Exception as error:  # viewers are best effort; stored data is not at stake
            log.warning("could not publish viewer events: %s", describe(error))

    def _publish_persist(
        self,
        tasks: asyncio.TaskGroup,
        channel: AbstractChannel,
        body: bytes,
        readings: int,
        messages: list[AbstractIncomingMessage],
    ) -> Pending:
        # The task reports a failed publish instead of raising it: a task of the group that
        # raised would tear the whole coordinator down, though _settle retries the batch.
        confirm = tasks.create_task(self._try_persist(channel, body))
        return Pending(body, readings, confirm, messages)

    async def _try_persist(self, channel: AbstractChannel, body: bytes) -> Exception | None:
        try:
            await self._send_persist(channel, body)
        except Exception as error:
            return error
        return None

    async def _send_persist(self, channel: AbstractChannel, body: bytes) -> None:
        await publish_confirmed(
            self._persist_entry or await self.topology.persist_entry(channel),
            body,
            self.topology.persist_queue,
            timeout=CONFIRM_TIMEOUT_S,
            redeclare=lambda: self.topology.persist(channel),
        )

    async def _settle(self, channel: AbstractChannel, settle: asyncio.Queue[Pending]) -> None:
        """Wait for each batch's confirm (retrying until the broker takes it), then ack."""
        backoff = Backoff()
        while True:
            pending = await settle.get()
            error = await pending.confirm
            if error is not None:
                log.warning("persist batch not confirmed (%s); retrying", describe(error))
                while True:
                    await asyncio.sleep(backoff.next())
                    try:
                        await self._send_persist(channel, pending.body)
                    except Exception as retry_error:
                        log.warning("persist retry failed: %s", describe(retry_error))
                        continue
                    log.info("persist batch confirmed after retry")
                    break
                backoff.reset()
            metrics.READINGS_OUT.inc(pending.readings)
            metrics.BATCHES.inc()
            for message in pending.messages:
                await _settle_quietly(message.ack())
            self._batches_settled += 1
            self._settled.set()
            settle.task_done()


def _channel_gone(message: AbstractIncomingMessage) -> bool:
    """The message's channel is closed: it cannot be acked, and the broker redelivers it."""
    try:
        return message.channel.is_closed
    except ChannelInvalidStateError:
        return True


async def _settle_quietly(settling: object) -> None:
    """Ack or reject; a message from a channel lost in an outage will be redelivered anyway."""
    try:
        await settling  # type: ignore[misc]
    except Exception as error:
        log.debug("could not settle a message: %s", describe(error))


def _observed(
    message: AlarmEvent | HoldEvent | LimitsChange,
) -> AlarmObserved | HoldObserved | LimitsObserved:
    """Another coordinator's alarm, hold or definitions, heard on the mirror."""
    if isinstance(message, AlarmEvent):
        return AlarmObserved(message.alarm)
    if isinstance(message, HoldEvent):
        return HoldObserved(message.hold)
    return LimitsObserved(message)


def _count_raised(event: AlarmChanged) -> None:
    if event.change == "raised":
        metrics.ALARMS_RAISED.inc()
