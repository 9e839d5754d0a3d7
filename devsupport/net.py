"""Bare network tools for the tests and the bench: a free TCP port, raw HTTP, and a websocket
client made of a bare TCP socket that completes the handshake, then does whatever it is asked,
including never reading again (a real websockets client always reads)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def stalled_client(address: str, path: str = "/ws") -> asyncio.StreamWriter:
    """Open a websocket and never read from it again; close the writer to hang up."""
    host, _, port = address.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window (set before connecting, so it is the one advertised) makes the
    # bridge feel the stall after kilobytes rather than megabytes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    writer.write(masked_text('{"type":"discover"}'))  # so that readings come its way
    return writer


def masked_text(text: str) -> bytes:
    """A client's text frame (clients must mask; a zero mask leaves the payload as is)."""
    payload = text.encode()
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + b"\x00" * 4 + payload


async def raw_http(address: str, request: bytes) -> bytes:
    """Send bytes, return everything the server answers before it closes."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
