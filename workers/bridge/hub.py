"""Fan-out: every event reaches every client through that client's own bounded queue.

Publishing never waits on a client. Each client drains its queue in its own task, so a slow or
stalled client only ever delays itself. Readings live in a ring that drops the oldest when full
(a live view wants the newest); state messages (sources, status, alarms) are never dropped but
coalesced by key, because each carries a whole state and only the latest matters. A client
whose state backlog still grows past its bound cannot be helped and is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import count, islice

from controlroom import metrics
from controlroom.errors import ControlroomError
from workers.bridge.view import Outgoing

log = logging.getLogger(__name__)

# A client that keeps falling behind is reported at most this often, not once per message.
DROP_LOG_INTERVAL_S = 30.0


class QueueOverflow(ControlroomError):
    """A client's state backlog passed its bound; it must reconnect and discover afresh."""


_private_keys = count()


class ClientQueue:
    """One client's backlog: a ring of readings and a map of state messages."""

    def __init__(self, max_readings: int, max_state: int) -> None:
        self.readings: deque[bytes] = deque(maxlen=max_readings)
        self.state: dict[tuple[str, str], bytes] = {}
        self.announced: dict[str, object] = {}  # each source's version this client was given
        self.max_state = max_state
        self.dropped = 0
        self.overflowed = False
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self.readings) + len(self.state)

    def put_readings(self, datas: list[bytes]) -> int:
        """Queue readings; returns how many old ones this pushed out."""
        ring = self.readings
        overflow = len(ring) + len(datas) - (ring.maxlen or 0)
        ring.extend(datas)
        self._ready.set()
        if overflow > 0:
            self.dropped += overflow
            return overflow
        return 0

    def put_state(self, key: tuple[str, str], payload: bytes, version: object = None) -> None:
        """Queue a state message; an unsent one with the same key is replaced (the newest goes
        last, so state messages keep the order in which their latest versions came). A source
        this client was given already, in the same version, is not given again (a discover
        answer and the announcement it crossed would otherwise both reach the client)."""
        if version is not None:
            if self.announced.get(key[1]) == version:
                return
            self.announced[key[1]] = version
        self.state.pop(key, None)
        self.state[key] = payload
        if len(self.state) > self.max_state:
            self.overflowed = True
        self._ready.set()

    def put_reply(self, payload: bytes) -> None:
        """A message meant for this client alone (never coalesced)."""
        self.put_state(("reply", str(next(_private_keys))), payload)

    async def take(self, max_readings: int) -> tuple[list[bytes], list[bytes]]:
        """Wait for work; state messages first, then at most `max_readings` readings."""
        while not (self.state or self.readings):
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            raise QueueOverflow(f"more than {self.max_state} state messages waiting")
        state = list(self.state.values())
        self.state.clear()
        ring = self.readings
        if len(ring) <= max_readings:
            taken = list(ring)
            ring.clear()
        else:
            taken = list(islice(ring, max_readings))
            for _ in range(max_readings):
                ring.popleft()
        return state, taken


@dataclass(eq=False)
class Client:
    """One connected browser (or any websocket client)."""

    peer: str
    queue: ClientQueue
    batch: bool = False
    # Readings start once the client has asked (discover or hello), so it has had the chance
    # to learn the sensors first: the original client expects a source before its readings.
    listening: bool = False
    sent: int = 0
    logged_drop_at: float = field(default=-DROP_LOG_INTERVAL_S, repr=False)


class Hub:
    def __init__(self, max_readings: int, max_state: int) -> None:
        self.clients: set[Client] = set()
        self.max_readings = max_readings
        self.max_state = max_state
        self.readings_in = 0

    def join(self, peer: str) -> Client:
        client = Client(peer, ClientQueue(self.max_readings, self.max_state))
        self.clients.add(client)
        metrics.VIEWERS.set(len(self.clients))
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        metrics.VIEWERS.set(len(self.clients))

    def heard(self, readings: int) -> None:
        """Readings the bridge received (before folding), for /healthz and the metrics."""
        self.readings_in += readings
        metrics.READINGS_IN.inc(readings)

    def readings(self, datas: list[bytes]) -> None:
        """Folded readings (see `folding`) for every client that listens."""
        for client in self.clients:
            if not client.listening:
                continue
            metrics.READINGS_OUT.inc(len(datas))
            dropped = client.queue.put_readings(datas)
            if dropped:
                now = time.monotonic()
                if now - client.logged_drop_at >= DROP_LOG_INTERVAL_S:
                    client.logged_drop_at = now
                    log.warning(
                        "client %s is too slow: dropping its oldest readings (%d so far)",
                        client.peer,
                        client.queue.dropped,
                    )

    def state(self, messages: Iterable[Outgoing], to: Client | None = None) -> None:
        """Send state messages to one client, or to every client."""
        targets = self.clients if to is None else (to,)
        for message in messages:
            for client in targets:
                client.queue.put_state(message.key, message.payload, message.version)

    def everyone(self, payload: bytes) -> None:
        for client in self.clients:
            client.queue.put_reply(payload)
