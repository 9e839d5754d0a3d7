"""A small TCP proxy that a test puts between one worker and the broker.

It runs its own event loop in a thread, so it keeps forwarding whatever the test's own event loop
is doing. The test controls the network through it:

- `cut()` drops every open connection at once and refuses new ones until `restore()`;
- `latency` delays every chunk by that many seconds, in each direction, in order;
- `rate` limits each direction of each connection to that many bytes per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import TypeVar

CHUNK_BYTES = 16 * 1024
T = TypeVar("T")


class Proxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.latency = 0.0
        self.rate: float | None = None
        self.port = 0
        self.accepted = 0
        self.refused = 0  # connection attempts turned away while cut
        self._open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Proxy:
        self._thread.start()
        server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._call(self._drop_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def url(self, user: str = "guest", password: str = "guest") -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/"

    # --- what the test controls --------------------------------------------------------------

    @property
    def connections(self) -> int:
        return len(self._writers) // 2

    async def cut(self) -> None:
        """Drop every connection now and refuse new ones: the cable is pulled. (Awaited, so the
        caller's event loop runs on while the proxy's thread drops them.)"""
        self._open = False
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop))

    def restore(self) -> None:
        self._open = True

    # --- forwarding --------------------------------------------------------------------------

    def _call(self, coroutine: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def _accept(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if not self._open:
            self.refused += 1
            _abort(client)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            _abort(client)
            return
        if not self._open:  # cut while connecting upstream
            _abort(client)
            _abort(upstream)
            return
        self.accepted += 1
        self._writers |= {client, upstream}
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream), self._pipe(upstream_reader, client)
            )
        finally:
            for writer in (client, upstream):
                self._writers.discard(writer)
                _abort(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction; with latency, chunks are delivered late but in order."""
        pending: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        delivering = asyncio.create_task(self._deliver(pending, writer))
        try:
            while True:
                chunk = await reader.read(CHUNK_BYTES)
                if not chunk:
                    break
                pending.put_nowait((time.monotonic() + self.latency, chunk))
        except (ConnectionError, OSError):
            pass
        finally:
            pending.put_nowait(None)
            with contextlib.suppress(ConnectionError, OSError):
                await delivering
            _abort(writer)

    async def _deliver(
        self, pending: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter
    ) -> None:
        while (item := await pending.get()) is not None:
            due, chunk = item
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(chunk)
            await writer.drain()
            if self.rate:
                await asyncio.sleep(len(chunk) / self.rate)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
