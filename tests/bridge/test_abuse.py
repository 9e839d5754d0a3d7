"""Hostile or broken clients: each is answered or closed, and everyone else keeps being served."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from devsupport.net import raw_http, stalled_client
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import Browser, FakeCoordinator
from tests.support import wait_for


async def clients(url: str) -> object:
    """How many websocket clients the bridge's /healthz counts (asked in a thread)."""

    def ask() -> object:
        with urllib.request.urlopen(url + "healthz", timeout=5) as reply:
            health: dict[str, object] = orjson.loads(reply.read())
            return health["clients"]

    return await asyncio.to_thread(ask)


def holding(count: int) -> Callable[[Browser], bool]:
    """A predicate: has the browser received exactly `count` readings?"""
    return lambda browser: len(browser.readings()) == count


async def test_bad_frames_close_only_their_sender(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    bridge = await start_bridge("--max-frame", "1024")
    async with Browser.open(bridge.ws_url) as watcher:
        await watcher.send({"type": "discover"})
        cases: list[tuple[str | bytes, int]] = [
            ("not json {", 1008),
            ('["a", "list"]', 1008),
            ('{"type": 42}', 1008),
            (b"\x00binary", 1003),
            ('{"type":"discover","pad":"' + "x" * 2000 + '"}', 1009),
        ]
        for frame, code in cases:
            async with Browser.open(bridge.ws_url) as abuser:
                await abuser.send(frame)
                closed = await abuser.wait_closed()
                assert closed.rcvd is not None and closed.rcvd.code == code, (frame, closed)

        # An unknown type is answered, and the connection stays useful.
        async with Browser.open(bridge.ws_url) as curious:
            await curious.send({"type": "subscribe", "data": {"everything": True}})
            errors = await curious.wait(lambda b: b.of("error"), "an error reply")
            assert "subscribe" in errors[0]["message"]
            await curious.send({"type": "discover"})
            await coordinator.readings({"still": 1.0})
            await curious.wait(lambda b: b.of("reading"), "a reading after the unknown frame")
            # ...but not forever.
            for _ in range(11):
                await curious.send({"type": "nonsense"})
            closed = await curious.wait_closed()
            assert closed.rcvd is not None and closed.rcvd.code == 1008

        # Other HTTP methods, and garbage that is not even HTTP.
        posted = await raw_http(bridge.address, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert posted.startswith(b"HTTP/1.1 405")
        answer = await raw_http(bridge.address, b"\x16\x03\x01 TLS hello?\r\n\r\n")
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")

        await coordinator.readings({"after": 2.0})
        await watcher.wait(
            lambda b: [r for r in b.of("reading") if r["Name"] == "after"], "the watcher's reading"
        )
    assert watcher.closed_normally(), watcher.closed
    assert bridge.worker.running()


async def test_origin_and_host_are_checked(start_bridge: StartBridge) -> None:
    bridge = await start_bridge("--allow-origin", "https://Trusted.example:8443/")
    port = bridge.address.rpartition(":")[2]
    allowed = (Origin(f"http://127.0.0.1:{port}"), Origin("https://trusted.example:8443"), None)
    for origin in allowed:
        async with connect(bridge.ws_url, origin=origin, open_timeout=5) as ws:
            await ws.send('{"type":"discover"}')
    refused_origins = ("http://evil.example", f"http://127.0.0.1:{int(port) + 1}", "null")
    for refused_origin in map(Origin, refused_origins):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(bridge.ws_url, origin=refused_origin, open_timeout=5):
                pass
        assert refused.value.response.status_code == 403
    # DNS rebinding: a hostile name resolving to 127.0.0.1, same-origin with itself.
    rebound = f"evil.example:{port}"
    handshake = (
        f"GET /ws HTTP/1.1\r\nHost: {rebound}\r\nOrigin: http://{rebound}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert (await raw_http(bridge.address, handshake.encode())).startswith(b"HTTP/1.1 403")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(bridge.ws_url, additional_headers={"Host": rebound}, open_timeout=5):
            pass
    assert refused.value.response.status_code == 400  # a second Host header
    page = await raw_http(bridge.address, f"GET / HTTP/1.1\r\nHost: {rebound}\r\n\r\n".encode())
    assert page.startswith(b"HTTP/1.1 403")
    assert "origin 'http://evil.example' is not allowed" in bridge.worker.log_text()


async def test_a_client_that_never_reads_delays_no_one(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    # A rate no pacing here reaches, so every reading goes out as it is (unfolded).
    bridge = await start_bridge("--client-queue", "1000", "--max-rate-per-sensor", "1000")
    stalled = await stalled_client(bridge.address)
    try:
        async with Browser.open(bridge.ws_url) as reader:
            await reader.send({"type": "hello", "data": {"batch": True}})
            await reader.wait(lambda b: b.of("hello"), "hello")
            frames, per_frame = 150, 500  # ~7 MB: more than the kernel buffers
            for frame in range(1, frames + 1):
                await coordinator.readings({f"s{i:03}": float(i) for i in range(per_frame)})
                # Paced like a plant's ticks: the next frame once the reader has this one.
                await reader.wait(holding(frame * per_frame), "frame")
            assert [r["Value"] for r in reader.readings()] == [
                float(i) for i in range(per_frame)
            ] * frames
        assert "is too slow: dropping its oldest readings" in bridge.worker.log_text()
        assert bridge.worker.running()
    finally:
        stalled.close()


async def test_dead_clients_are_dropped_by_ping_timeout(start_bridge: StartBridge) -> None:
    bridge = await start_bridge("--ping-interval", "0.3", "--ping-timeout", "0.3")
    stalled = await stalled_client(bridge.address)
    try:

        async def counted() -> bool:  # the bridge counts a client once its handshake is done
            return await clients(bridge.url) == 1

        await wait_for(counted, timeout=10, what="the silent client to be counted")

        async def gone() -> bool:
            return await clients(bridge.url) == 0

        await wait_for(gone, timeout=10, what="the silent client to be dropped")
        assert "closed with 1011 keepalive ping timeout" in bridge.worker.log_text()
    finally:
        stalled.close()
