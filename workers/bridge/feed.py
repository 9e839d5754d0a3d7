"""The plant side: the coordinator's events in, hub messages out, and snapshot requests.

The bridge is a viewer: its own exclusive queue on the events exchange (bounded, drop-head, see
controlroom.topology), consumed without acks since a live view has nothing to redeliver. It asks
the coordinator for a snapshot at start, after a broker reconnect, and when a reading names a
sensor it has not heard of, so its picture is complete whatever the start order.
"""

from __future__ import annotations

import asyncio
import logging

from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from controlroom.amqp import connect
from controlroom.config import Settings
from controlroom.messages import (
    AlarmEvent,
    Frame,
    InvalidMessage,
    Snapshot,
    SnapshotRequest,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    decode,
    encode,
)
from controlroom.topology import Topology, json_message
from workers.bridge import protocol
from workers.bridge.hub import Hub
from workers.bridge.view import PlantView

log = logging.getLogger(__name__)

PREFETCH = 512
# At most one snapshot request per interval: a burst of unknown sensors asks once.
SNAPSHOT_INTERVAL_S = 2.0
MAX_ASKED = 10_000
EVENT_PATTERNS = ("reading.#", "source.#", "status.#", "alarm.#")


class Feed:
    def __init__(self, settings: Settings, view: PlantView, hub: Hub) -> None:
        self.settings = settings
        self.topology = Topology(settings.plant)
        self.view = view
        self.hub = hub
        self.connected = False
        self.invalid = 0
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._wanted = asyncio.Event()
        self._asked: set[str] = set()

    async def start(self) -> None:
        """Connect and subscribe; raises BrokerUnreachable if the broker is not there."""
        self._connection = await connect(self.settings, "bridge")
        self._connection.reconnect_callbacks.add(self._reconnected)
        self._connection.close_callbacks.add(self._lost)
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=PREFETCH)
        await self.topology.requests(self._channel)
        self._queue = await self.topology.viewer(self._channel, *EVENT_PATTERNS)
        await self._queue.consume(self._on_message, no_ack=True)
        self.connected = True
        log.info("subscribed to %s", self.topology.events_exchange)
        self.request_snapshot()

    async def run(self) -> None:
        """Send the snapshot requests asked for, at most one per interval, until cancelled."""
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self._publish_request()
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)  # rate limit: requests meanwhile merge

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    def request_snapshot(self) -> None:
        """Ask the coordinator for every source soon; never blocks the caller."""
        self._wanted.set()

    async def _publish_request(self) -> None:
        if self._channel is None or self._queue is None:
            return
        message = json_message(
            encode(SnapshotRequest()), persistent=False, reply_to=self._queue.name
        )
        try:
            await self._channel.default_exchange.publish(
                message, routing_key=self.topology.requests_queue
            )
        except Exception as error:  # the broker is away; the reconnect asks again
            log.warning("snapshot request not sent: %s", error)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = decode(message.body)
        except InvalidMessage as error:
            self.invalid += 1
            log.warning("ignoring an invalid event (%s): %s", message.routing_key, error)
            return
        try:
            self._apply(event)
        except Exception:  # a bug here must cost one event, not the view
            log.exception("could not handle a %s event", type(event).__name__)

    def _apply(self, event: object) -> None:
        if isinstance(event, Frame):
            self.hub.readings(protocol.frame_readings(event))
            self._ask_about(event.names)
        elif isinstance(event, SourceState):
            self.hub.state(self.view.apply_source(event))
        elif isinstance(event, SourceStates):
            for state in event.sources:
                self.hub.state(self.view.apply_source(state))
        elif isinstance(event, StatusChange):
            self._ask_about([event.sensor])
            self.hub.state(self.view.apply_status(event))
        elif isinstance(event, StatusChanges):
            self._ask_about([change.sensor for change in event.changes])
            for change in event.changes:
                self.hub.state(self.view.apply_status(change))
        elif isinstance(event, AlarmEvent):
            self.hub.state(self.view.apply_alarm(event))
        elif isinstance(event, Snapshot):
            self.hub.state(self.view.apply_snapshot(event))
            log.info(
                "snapshot: %d sources, %d active alarms", len(event.sources), len(event.alarms)
            )
        else:
            log.debug("ignoring a %s event", type(event).__name__)

    def _ask_about(self, names: list[str]) -> None:
        """Request a snapshot for sensors never heard of; once per name, so a sensor the
        coordinator does not describe costs one request, not one per reading."""
        view = self.view
        if all(name in view.sources or name in self._asked for name in names):
            return
        if len(self._asked) > MAX_ASKED:
            self._asked.clear()
        self._asked.update(name for name in names if name not in view.sources)
        self.request_snapshot()

    def _lost(self, connection: object, error: BaseException | None = None) -> None:
        if self.connected:
            self.connected = False
            self.hub.everyone(protocol.broker(False))

    def _reconnected(self, connection: object) -> None:
        self.connected = True
        self._asked.clear()
        self.hub.everyone(protocol.broker(True))
        self.request_snapshot()
