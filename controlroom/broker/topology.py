"""The broker topology: every exchange and queue name, and how each is declared.

One home for names and queue arguments, because RabbitMQ refuses a second declaration whose
arguments differ from the first. Every name starts with the plant namespace, so plants (and
tests) share a broker without seeing each other.

Nothing is published to the default exchange: it routes by queue name, so whoever may publish
there may publish into any queue, and RabbitMQ's permissions could not tell a sensor from a
coordinator. Every queue that takes messages is bound to a named exchange (readings, persist,
requests; answers go out on replies), so who may write where is a regex over exchange names
(`controlroom.broker.roles`).

What a source sends and hears goes through topic exchanges keyed by the source
(`readings_key`): its frames (`frames`), its announcements and goodbyes (`announcements`) and
the stops for its sensors (`stops`, which the coordinator passes on from an operator's action).
Topic permissions then hold a source's own login to its own key (`broker init --source`).
Plants made before had a direct `readings`, a fanout `sensors` and a direct `control` exchange:
an exchange's type cannot change, so these are new names, and `broker init` removes the old.

Backlog bounds, and what happens when one is reached:
- readings.<source> and persist: `reject-publish`. The publisher's confirm turns into a nack,
  so the sender keeps the data (a sensor in its bounded buffer, the coordinator by not acking
  its input) and the backlog propagates upstream instead of losing confirmed readings.
- dead: drop-head. The oldest dead letters go first; each one was logged when it arrived.
- claim.<name>: no messages ever; exclusive and auto-delete, so it lives exactly as long as the
  connection of the process holding the name (`controlroom.broker.claims`).
- viewer queues and requests: drop-head, classic and transient whatever the plant's type. A
  viewer that falls behind loses old live readings, never anything that is stored. Requests
  carry a dead-letter exchange like every queue a worker validates, so a refused (or expired,
  or overflowed) request ends in dead too.

Durable queues (readings, persist, dead) are of the plant's queue type (`Settings.
durable_queue_type`: quorum on a cluster). A quorum queue also gets a delivery limit (a message
returned DELIVERY_LIMIT times, say one that kills every consumer that takes it, is dead-lettered
instead of looping) and at-least-once dead-lettering (RabbitMQ 3.10; it needs reject-publish,
which readings and persist have): a dead letter leaves its queue only once dead has it.
A queue's type is fixed when it is declared: a declaration that differs is refused by the
broker (PRECONDITION_FAILED), which is one line here (QueueMismatch) naming the migration.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    ExchangeType,
)

from controlroom.config import Settings
from controlroom.errors import QueueMismatch

READINGS_MAX_BYTES = 512 * 1024 * 1024
PERSIST_MAX_BYTES = 1024 * 1024 * 1024
DEAD_MAX_LENGTH = 100_000
VIEWER_MAX_LENGTH = 20_000
REQUESTS_MAX_LENGTH = 1_000
REQUESTS_TTL_MS = 30_000
# Deliveries of one message before a quorum queue dead-letters it. A worker's crash or a lost
# connection returns its unacked messages (each return counts), so this is far above what any
# outage costs a message, and still ends a poison message's loop.
DELIVERY_LIMIT = 20
MIGRATE_COMMAND = "controlroom-worker broker migrate-queues --to"


@dataclass(frozen=True, slots=True)
class Topology:
    plant: str
    queue_type: str = "classic"  # of the durable queues: readings, persist, dead
    # Made by `broker init` (a role's login, `<plant>.<role>`): the shared exchanges and the
    # persist, requests and dead queues are there, and a role may not declare them (configure
    # on a name is the right to delete it), so a process only declares its own queues.
    premade: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Topology:
        return cls(settings.plant, settings.durable_queue_type, settings.uses_roles)

    def made(self) -> Topology:
        """This topology as the one who makes the shared part declares it (`broker init`)."""
        return Topology(self.plant, self.queue_type, premade=False)

    # --- names -----------------------------------------------------------------------------

    def name(self, suffix: str) -> str:
        return f"{self.plant}.{suffix}"

    @property
    def announcements_exchange(self) -> str:
        """Sources' announcements and goodbyes, keyed by source (`readings_key`)."""
        return self.name("announcements")

    @property
    def discovery_exchange(self) -> str:
        return self.name("discovery")

    @property
    def stops_exchange(self) -> str:
        """Stops for a source's sensors, keyed by source: only coordinators publish here."""
        return self.name("stops")

    @property
    def coordinators_exchange(self) -> str:
        return self.name("coordinators")

    @property
    def events_exchange(self) -> str:
        return self.name("events")

    @property
    def frames_exchange(self) -> str:
        """Frames, routed by source (`readings_key`) to that source's readings queue."""
        return self.name("frames")

    @property
    def legacy_exchanges(self) -> tuple[str, ...]:
        """What frames, announcements and stops went through before (`broker init` removes
        them: their types could not be changed in place)."""
        return (self.name("readings"), self.name("sensors"), self.name("control"))

    @property
    def persist_exchange(self) -> str:
        """Persist batches, to the persist queue (fanout: one queue)."""
        return self.name("persist")

    @property
    def requests_exchange(self) -> str:
        """Viewers' requests (snapshots, acks), to the requests queue (fanout: one queue)."""
        return self.name("requests")

    @property
    def actions_exchange(self) -> str:
        """Operators' actions (acks), to the requests queue: only operators may publish here,
        and the coordinator takes an ack only from here (`delivery.exchange`)."""
        return self.name("actions")

    @property
    def replies_exchange(self) -> str:
        """Answers to requests, routed by the asker's queue name (its `reply_to`)."""
        return self.name("replies")

    @property
    def dead_exchange(self) -> str:
        return self.name("dead")

    @property
    def dead_queue(self) -> str:
        return self.name("dead")

    @property
    def persist_queue(self) -> str:
        return self.name("persist")

    @property
    def requests_queue(self) -> str:
        return self.name("requests")

    @property
    def fixed_queues(self) -> tuple[str, ...]:
        """The queues every plant has (readings queues come and go with their sources)."""
        return (self.persist_queue, self.dead_queue, self.requests_queue)

    @property
    def exchanges(self) -> tuple[str, ...]:
        return (
            self.announcements_exchange,
            self.discovery_exchange,
            self.stops_exchange,
            self.events_exchange,
            self.dead_exchange,
            self.coordinators_exchange,
            self.frames_exchange,
            self.persist_exchange,
            self.requests_exchange,
            self.replies_exchange,
            self.actions_exchange,
        )

    async def delete(self, channel: AbstractChannel, readings_queues: Sequence[str] = ()) -> None:
        """Remove the plant from the broker (tests and benchmarks clean up with this)."""
        for queue in (*self.fixed_queues, *readings_queues):
            await channel.queue_delete(queue)
        for exchange in self.exchanges:
            await channel.exchange_delete(exchange)

    def readings_queue(self, source: str) -> str:
        return self.name(f"readings.{readings_key(source)}")

    def own_queue(self) -> str:
        """A name for a process's own exclusive queue (viewer, presence, commands): under the
        plant's prefix, so a role's right to make its own queues is a regex over the plant's
        names (`<plant>.own.*`), and exclusive, so no other connection can use it."""
        return self.name(f"own.{uuid.uuid4().hex}")

    def claim_queue(self, name: str) -> str:
        """The queue whose holder owns a sensor's or a source's name (`broker.claims`)."""
        return self.name(f"claim.{queue_token(name)}")

    # --- declarations ----------------------------------------------------------------------

    async def announcements(self, channel: AbstractChannel) -> AbstractExchange:
        return await self._exchange(channel, self.announcements_exchange, ExchangeType.TOPIC)

    async def discovery(self, channel: AbstractChannel) -> AbstractExchange:
        return await self._exchange(channel, self.discovery_exchange, ExchangeType.FANOUT)

    async def stops(self, channel: AbstractChannel) -> AbstractExchange:
        return await self._exchange(channel, self.stops_exchange, ExchangeType.TOPIC)

    async def coordinators(self, channel: AbstractChannel) -> AbstractExchange:
        """Coordinators' presence (fanout: each hears every other)."""
        return await self._exchange(channel, self.coordinators_exchange, ExchangeType.FANOUT)

    async def events(self, channel: AbstractChannel) -> AbstractExchange:
        return await self._exchange(channel, self.events_exchange, ExchangeType.TOPIC)

    async def dead(self, channel: AbstractChannel) -> AbstractQueue:
        exchange = await self._exchange(channel, self.dead_exchange, ExchangeType.FANOUT)
        if self.premade:
            return await channel.get_queue(self.dead_queue, ensure=False)
        queue = await self._durable(
            channel,
            self.dead_queue,
            self._typed({"x-max-length": DEAD_MAX_LENGTH, "x-overflow": "drop-head"}),
        )
        await queue.bind(exchange)
        return queue

    async def frames(self, channel: AbstractChannel) -> AbstractExchange:
        """Where sources publish frames (key `readings_key(source)`; a key has no `*` or `#`,
        so a binding by it matches that key only, as on a direct exchange)."""
        return await self._exchange(channel, self.frames_exchange, ExchangeType.TOPIC)

    async def readings(self, channel: AbstractChannel, source: str) -> AbstractQueue:
        """A source's durable queue, bound to the readings exchange by the source's key; one
        active consumer at a time keeps its order."""
        await self.dead(channel)
        queue = await self._durable(
            channel,
            self.readings_queue(source),
            self.readings_arguments(),
        )
        await queue.bind(await self.frames(channel), routing_key=readings_key(source))
        return queue

    def readings_arguments(self) -> dict[str, Any]:
        return self._bounded(READINGS_MAX_BYTES) | {"x-single-active-consumer": True}

    def persist_arguments(self) -> dict[str, Any]:
        return self._bounded(PERSIST_MAX_BYTES)

    async def persist_entry(self, channel: AbstractChannel) -> AbstractExchange:
        """Where coordinators publish persist batches (any key)."""
        return await self._exchange(channel, self.persist_exchange, ExchangeType.FANOUT)

    async def persist(self, channel: AbstractChannel) -> AbstractQueue:
        if self.premade:
            return await channel.get_queue(self.persist_queue, ensure=False)
        await self.dead(channel)
        queue = await self._durable(channel, self.persist_queue, self.persist_arguments())
        await queue.bind(await self.persist_entry(channel))
        return queue

    async def requests_entry(self, channel: AbstractChannel) -> AbstractExchange:
        """Where viewers publish requests (any key)."""
        return await self._exchange(channel, self.requests_exchange, ExchangeType.FANOUT)

    async def replies(self, channel: AbstractChannel) -> AbstractExchange:
        """Where the coordinator answers a request: key = the asker's `reply_to` queue."""
        return await self._exchange(channel, self.replies_exchange, ExchangeType.DIRECT)

    async def requests(self, channel: AbstractChannel) -> AbstractQueue:
        """Viewers' requests and operators' actions; one the coordinator refuses is
        dead-lettered, as everywhere."""
        if self.premade:
            return await channel.get_queue(self.requests_queue, ensure=False)
        await self.dead(channel)
        queue = await channel.declare_queue(
            self.requests_queue,
            durable=False,
            arguments={
                "x-max-length": REQUESTS_MAX_LENGTH,
                "x-overflow": "drop-head",
                "x-message-ttl": REQUESTS_TTL_MS,
                "x-dead-letter-exchange": self.dead_exchange,
            },
        )
        await queue.bind(await self.requests_entry(channel))
        await queue.bind(await self.actions(channel))
        return queue

    async def actions(self, channel: AbstractChannel) -> AbstractExchange:
        """Where operators publish acknowledgements (any key), to the requests queue."""
        return await self._exchange(channel, self.actions_exchange, ExchangeType.FANOUT)

    async def make_shared(self, channel: AbstractChannel) -> None:
        """Declare what every role finds made (`premade`): each exchange, and the dead,
        persist and requests queues with their bindings. Run by `broker init` as owner."""
        made = self.made()
        await made.dead(channel)
        await made.persist(channel)
        await made.requests(channel)
        for declare in (
            made.announcements, made.discovery, made.stops, made.coordinators, made.events,
            made.frames, made.replies,
        ):  # fmt: skip
            await declare(channel)
        for legacy in self.legacy_exchanges:  # deleting one that is not there is no error
            await channel.exchange_delete(legacy)

    async def viewer(self, channel: AbstractChannel, *patterns: str) -> AbstractQueue:
        """A viewer's own queue on the events exchange; it vanishes with the viewer."""
        exchange = await self.events(channel)
        queue = await channel.declare_queue(
            self.own_queue(),
            exclusive=True,
            auto_delete=True,
            arguments={"x-max-length": VIEWER_MAX_LENGTH, "x-overflow": "drop-head"},
        )
        for pattern in patterns or ("#",):
            await queue.bind(exchange, routing_key=pattern)
        return queue

    async def hear_replies(self, channel: AbstractChannel, queue: AbstractQueue) -> None:
        """Bind a viewer's queue to the replies exchange under its own name (its reply_to)."""
        await queue.bind(await self.replies(channel), routing_key=queue.name)

    async def peers(self, channel: AbstractChannel) -> AbstractQueue:
        """A coordinator's own queue of the others' presence (consumed without acks)."""
        exchange = await self.coordinators(channel)
        queue = await channel.declare_queue(
            self.own_queue(),
            exclusive=True,
            auto_delete=True,
            arguments={"x-max-length": VIEWER_MAX_LENGTH, "x-overflow": "drop-head"},
        )
        await queue.bind(exchange)
        return queue

    async def private(self, channel: AbstractChannel) -> AbstractQueue:
        """A process's own queue (commands, announcements); bad messages go to dead."""
        await self.dead(channel)
        return await channel.declare_queue(
            self.own_queue(),
            exclusive=True,
            auto_delete=True,
            arguments={"x-dead-letter-exchange": self.dead_exchange},
        )

    async def _exchange(
        self, channel: AbstractChannel, name: str, kind: ExchangeType
    ) -> AbstractExchange:
        """A durable exchange: declared, or (premade) taken as it is, with no round trip."""
        if self.premade:
            return await channel.get_exchange(name, ensure=False)
        return await channel.declare_exchange(name, kind, durable=True)

    def _bounded(self, max_bytes: int) -> dict[str, Any]:
        bounded: dict[str, Any] = {
            "x-max-length-bytes": max_bytes,
            "x-overflow": "reject-publish",
            "x-dead-letter-exchange": self.dead_exchange,
        }
        if self.queue_type == "quorum":
            bounded |= {
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-strategy": "at-least-once",
            }
        return self._typed(bounded)

    def _typed(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A classic queue is declared as before types existed (no argument), so the queues
        of plants made before are the same declaration."""
        if self.queue_type == "classic":
            return arguments
        return {"x-queue-type": self.queue_type} | arguments

    async def _durable(
        self, channel: AbstractChannel, name: str, arguments: dict[str, Any]
    ) -> AbstractQueue:
        """Declare a durable queue of the plant's type; one line if it exists otherwise."""
        try:
            return await channel.declare_queue(name, durable=True, arguments=arguments)
        except aiormq.exceptions.ChannelPreconditionFailed as error:
            reason = str(error).partition(" - ")[2].split(" in vhost ")[0] or str(error)
            other = "classic" if self.queue_type == "quorum" else "quorum"
            raise QueueMismatch(
                f"queue {name} is not a {self.queue_type} queue as this plant's settings say "
                f"(the broker: {reason}); stop the plant and run `{MIGRATE_COMMAND} "
                f"{self.queue_type}`, or run it with --queue-type {other}"
            ) from None


# AMQP clients accept only these characters in queue names (pamqp enforces it), while a
# source may be named with any printable text.
_QUEUE_SAFE = re.compile(r"[A-Za-z0-9_.:@,+-]+")
_QUEUE_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9_.:@,+-]")


def queue_token(name: str) -> str:
    """A name as it may appear in a queue name: itself if it can, else a readable stand-in
    made unique by a digest of the original (`<img src=x>` -> `_img_src_x_#3c1f0a9e2b`)."""
    if _QUEUE_SAFE.fullmatch(name):
        return name
    readable = _QUEUE_UNSAFE_CHAR.sub("_", name)[:48]
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{readable}#{digest}"


def readings_key(source: str) -> str:
    """A source's routing key on the readings exchange (and its readings queue's suffix)."""
    return queue_token(source)


# Routing keys on the events exchange.
def reading_key(source: str) -> str:
    return f"reading.{source}"


def source_key(sensor: str) -> str:
    return f"source.{sensor}"


def status_key(sensor: str) -> str:
    return f"status.{sensor}"


def alarm_key(kind: str) -> str:
    return f"alarm.{kind}"


def warning_key(sensor: str) -> str:
    return f"warning.{sensor}"


def hold_key(sensor: str) -> str:
    """An alarm point's hold changed (`HoldEvent`)."""
    return f"hold.{sensor}"


def limits_key(sensor: str) -> str:
    """A sensor's alarm definitions changed (`LimitsChange`): every coordinator applies it."""
    return f"limits.{sensor}"


# What a coordinator hears from the others on the events exchange: the alarm mirror.
MIRROR_KEYS = ("alarm.#", "hold.#", "limits.#")


# Several sources' or statuses' changes in one message (SourceStates, StatusChanges): the bare
# word, which bindings to "source.#" and "status.#" match as well.
SOURCES_KEY = "source"
STATUSES_KEY = "status"
