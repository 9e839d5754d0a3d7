"""Stand-ins for the coordinator's side of the events exchange, and a websocket client that
records what the bridge says, for protocol tests that need no sensors."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from controlroom.broker.publishing import json_message
from controlroom.broker.topology import Topology, alarm_key, reading_key, source_key, status_key
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.plant.alarms import Alarm
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Condition, Liveness, SensorInfo
from controlroom.wire.codec import Decoder, encode
from controlroom.wire.envelopes import (
    AlarmEvent,
    Snapshot,
    SnapshotRequest,
    SourceState,
    StatusChange,
)
from tests.support import wait_for


def sensor_state(name: str, safe_min: float = 10.0, safe_max: float = 90.0) -> SourceState:
    return SourceState(
        SensorInfo(
            name=name, serial_no=f"SN-{name[:8]}", unit="°C", safe_min=safe_min, safe_max=safe_max
        )
    )


class FakeCoordinator:
    """Publishes events as the coordinator would and answers snapshot requests."""

    def __init__(self, settings: Settings) -> None:
        self.topology = Topology.of(settings)
        self.settings = settings
        self.sources: dict[str, SourceState] = {}
        self.alarms: list[Alarm] = []
        self.requests = 0
        self._decoder = Decoder()
        self.run = secrets.token_hex(4)
        self.seq = 0
        self._channel: AbstractChannel | None = None
        self._events: AbstractExchange | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeCoordinator]:
        connection = await aio_pika.connect(self.settings.amqp_url)
        try:
            self._channel = await connection.channel()
            self._events = await self.topology.events(self._channel)
            requests = await self.topology.requests(self._channel)
            await requests.consume(self._answer, no_ack=True)
            yield self
        finally:
            await connection.close()

    async def _answer(self, message: AbstractIncomingMessage) -> None:
        if (
            not isinstance(self._decoder.decode(message.body), SnapshotRequest)
            or not message.reply_to
        ):
            return
        self.requests += 1
        snapshot = Snapshot(list(self.sources.values()), list(self.alarms))
        assert self._channel is not None
        replies = await self.topology.replies(self._channel)
        await replies.publish(
            json_message(encode(snapshot), persistent=False), routing_key=message.reply_to
        )

    async def publish(self, key: str, body: bytes) -> None:
        assert self._events is not None
        await self._events.publish(json_message(body, persistent=False), routing_key=key)

    async def announce(self, state: SourceState) -> None:
        self.sources[state.sensor.name] = state
        await self.publish(source_key(state.sensor.name), encode(state))

    async def readings(self, values: dict[str, float], source: str = "gateway") -> list[int]:
        """One frame with a reading per sensor; returns the seqs used."""
        names = list(values)
        seqs = [self.seq + i + 1 for i in range(len(names))]
        self.seq += len(names)
        taken = now_us()
        frame = Frame(source, self.run, names, seqs, [taken] * len(names), list(values.values()))
        await self.publish(reading_key(source), encode(frame))
        return seqs

    async def frame(self, frame: Frame) -> None:
        await self.publish(reading_key(frame.source), encode(frame))

    async def status(self, name: str, liveness: Liveness) -> None:
        # Its snapshots say so too, as the coordinator's do: a snapshot answered after this
        # (a page's discover asks for one) must not bring the sensor back to LIVE.
        if name in self.sources:
            self.sources[name].liveness = liveness
        await self.publish(status_key(name), encode(StatusChange(name, liveness, now_us())))

    async def alarm(
        self, name: str, kind: Condition, *, cleared: bool = False, **fields: Any
    ) -> Alarm:
        item = Alarm(
            id=f"{name}-{kind.value}",
            sensor=name,
            kind=kind,
            raised_at=now_us(),
            value=99.0,
            limit=90.0,
            peak=99.5,
            cleared_at=now_us() if cleared else None,
            **fields,
        )
        self.alarms = [a for a in self.alarms if a.id != item.id] + ([item] if item.open else [])
        await self.publish(alarm_key("cleared" if cleared else "raised"), encode(AlarmEvent(item)))
        return item


class Browser:
    """A websocket client that keeps every message the bridge sends it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.messages: list[dict[str, Any]] = []
        self.closed: ConnectionClosed | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, **options: Any) -> AsyncIterator[Browser]:
        async with connect(url, open_timeout=5, **options) as connection:
            browser = cls(connection)
            try:
                yield browser
            finally:
                browser._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await browser._reader

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                self.messages.append(orjson.loads(frame))
        except ConnectionClosed as closed:
            self.closed = closed
        else:
            protocol = self.connection.protocol
            self.closed = ConnectionClosed(
                protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent
            )

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            message = orjson.dumps(message).decode()
        await self.connection.send(message)

    def closed_normally(self) -> bool:
        """Still open, or closed by the bridge with 1000 (normal closure)."""
        if self.closed is None:
            return True
        return self.closed.rcvd is not None and self.closed.rcvd.code == 1000

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m["data"] for m in self.messages if m.get("type") == kind]

    def readings(self) -> list[dict[str, Any]]:
        """Readings whether they came one per message or batched."""
        found: list[dict[str, Any]] = []
        for message in self.messages:
            if message.get("type") == "reading":
                found.append(message["data"])
            elif message.get("type") == "readings":
                found.extend(message["data"])
        return found

    async def wait(
        self, predicate: Callable[[Browser], Any], what: str, timeout: float = 10.0
    ) -> Any:
        async def probe() -> Any:
            return predicate(self)

        return await wait_for(probe, timeout=timeout, what=what)

    async def wait_closed(self, timeout: float = 10.0) -> ConnectionClosed:
        async def probe() -> ConnectionClosed | None:
            return self.closed

        closed: ConnectionClosed = await wait_for(probe, timeout=timeout, what="the close")
        return closed
