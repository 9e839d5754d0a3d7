"""The websocket server: HTTP for the page, /ws for the protocol, one task pair per client.

Each connection has a reader (the client's messages, rate-limited and validated) and a sender
(draining that client's queue). They share nothing with other clients, so a slow, stalled or
hostile client costs only itself; keepalive pings drop clients that have vanished.

With a login (`workers.bridge.login`, required off loopback), every path but the login page and
its files needs a session: `/`, `/ws` and `/history` are refused with 401 without one, and
`/healthz` says only whether the bridge is healthy (`{"ok": true}`, or 503), so a load balancer
or a monitor without a login can still probe it while the plant's figures stay behind the login.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import time
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers, MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from controlroom.broker.feed import BrokerState, ViewerFeed
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.db.history import History
from controlroom.errors import DatabaseUnavailable
from controlroom.wire.codec import Message
from workers.bridge import protocol
from workers.bridge.access import Access
from workers.bridge.assets import Assets, response, text_response
from workers.bridge.folding import DEFAULT_MAX_RATE_HZ, Folding
from workers.bridge.hub import Client, Hub, QueueOverflow
from workers.bridge.login import Auth, Session
from workers.bridge.view import PlantView

log = logging.getLogger(__name__)

WS_PATH = "/ws"
HEALTH_PATH = "/healthz"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
# What a browser without a session may fetch: the login page and what it is made of.
PUBLIC_PATHS = frozenset({LOGIN_PATH, "/login.js", "/style.css", "/favicon.ico"})
# Each chart's recent history, for a page that just opened: JSON, from PostgreSQL.
HISTORY_PATH = "/history"
HISTORY_WINDOW_S = 120  # as long as a chart on the page shows
HISTORY_POINTS = 600  # per sensor, as many as a chart keeps
# Readings per send round; in batch mode, per `readings` message.
SEND_BATCH = 512
# A client may send this many messages in a burst, refilled at RATE per second.
MESSAGE_BURST = 20
MESSAGE_RATE = 5.0
MAX_UNKNOWN_MESSAGES = 10
# What the bridge hears of the events exchange: everything viewers are told.
EVENT_PATTERNS = ("reading.#", "source.#", "status.#", "alarm.#", "warning.#")


@dataclass(frozen=True, slots=True)
class Limits:
    max_clients: int
    max_rate_per_sensor: float = DEFAULT_MAX_RATE_HZ  # readings a second per sensor, folded


class TokenBucket:
    """Messages a client may send: a burst, then a steady rate."""

    def __init__(self, burst: int, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Bridge:
    """The plant's events in (its viewer feed), every client's queue out, and HTTP."""

    def __init__(
        self,
        *,
        settings: Settings,
        hub: Hub,
        view: PlantView,
        access: Access,
        assets: Assets,
        limits: Limits,
        auth: Auth | None = None,
    ) -> None:
        self.plant = settings.plant
        self.auth = auth
        # The session each websocket was let in with (checked again while it is open).
        self._ws_sessions: weakref.WeakKeyDictionary[ServerConnection, tuple[str, Session]] = (
            weakref.WeakKeyDictionary()
        )
        self._ws_tokens: dict[ServerConnection, str] = {}  # open websockets' sessions
        self._closing: set[asyncio.Task[None]] = set()
        self.hub = hub
        self.view = view
        self.access = access
        self.assets = assets
        self.limits = limits
        self.feed = ViewerFeed(
            settings, "bridge", self.on_event, self.on_broker, patterns=EVENT_PATTERNS
        )
        # Readings reach clients folded, at most max_rate_per_sensor a second per sensor;
        # `folding.run()` must run beside the feed.
        self.folding = Folding(limits.max_rate_per_sensor, hub.readings)
        self._broker_connected: bool | None = None
        self.history = History(settings.for_history())  # a standby, if the plant has one

    # --- the plant's side ------------------------------------------------------------------

    def on_event(self, message: Message) -> None:
        changes, outgoing = self.view.apply(message)
        frame = changes.frame
        if frame is not None:
            self.hub.heard(len(frame))
            if self.hub.clients:  # no one to fold for: nothing to do per frame
                self.folding.add(frame)
        if outgoing:
            self.hub.state(outgoing)
        if changes.unknown:  # a sensor not yet described: ask (rate-limited by the feed)
            self.feed.request_snapshot()

    def on_broker(self, state: BrokerState) -> None:
        if state.connected is not self._broker_connected:
            self._broker_connected = state.connected
            self.hub.everyone(protocol.broker(state.connected))

    # --- HTTP ------------------------------------------------------------------------------

    def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | Awaitable[Response] | None:
        """Serve the page and its files; let only acceptable handshakes through to /ws."""
        path = urlsplit(request.path).path
        if request.method != "GET":
            refused = text_response(http.HTTPStatus.METHOD_NOT_ALLOWED, "only GET\n")
            refused.headers["Allow"] = "GET"
            return refused
        try:
            host = _single(request.headers, "Host")
            origin = _single(request.headers, "Origin")
        except MultipleValuesError as error:
            log.warning("refused %s %s: repeated %s header", _peer(connection), path[:80], error)
            return text_response(http.HTTPStatus.BAD_REQUEST, f"repeated {error} header\n")
        refusal = self.access.refuse_host(host)
        if refusal is None and path == WS_PATH:
            refusal = self.access.refuse_origin(origin, host)
        if refusal is not None:
            log.warning("refused %s %s: %s", _peer(connection), path[:80], refusal)
            return text_response(http.HTTPStatus.FORBIDDEN, refusal + "\n")
        if self.auth is not None:
            gate = self._gate(self.auth, connection, request, path)
            if gate is not None:
                return gate
        elif path in (LOGIN_PATH, LOGOUT_PATH):
            return redirect("/")  # no login here (loopback): the page is open
        if path == WS_PATH:
            if len(self.hub.clients) >= self.limits.max_clients:
                log.warning(
                    "refused %s: %d clients already", _peer(connection), len(self.hub.clients)
                )
                return text_response(http.HTTPStatus.SERVICE_UNAVAILABLE, "too many clients\n")
            return None  # websockets performs the handshake (426 if it is not one)
        if path == HEALTH_PATH:
            return response(http.HTTPStatus.OK, orjson.dumps(self.health()), "application/json")
        if path == HISTORY_PATH:
            return self.recent_history()
        try:
            etag = _single(request.headers, "If-None-Match")
        except MultipleValuesError:
            etag = None
        return self.assets.respond(path, etag)

    # --- the login ---------------------------------------------------------------------------

    def _gate(
        self, auth: Auth, connection: ServerConnection, request: Request, path: str
    ) -> Response | Awaitable[Response] | None:
        """The login's answer to a request, or None to serve it as without one."""
        if path == LOGIN_PATH and request.headers.get("Authorization") is not None:
            return self._login(auth, connection, request)
        if path == LOGOUT_PATH:
            found = auth.session(request.headers.get("Cookie"))
            if found is not None:
                auth.sessions.end(found[0])
                log.info("%s logged out (%s)", found[1].user, _peer(connection))
                for ws, token in list(self._ws_tokens.items()):
                    if token == found[0]:  # its websockets go with it
                        closing = asyncio.get_running_loop().create_task(self._end_session(ws))
                        self._closing.add(closing)
                        closing.add_done_callback(self._closing.discard)
            answer = redirect(LOGIN_PATH)
            answer.headers["Set-Cookie"] = auth.cleared_cookie()
            return answer
        if path in PUBLIC_PATHS:
            return None
        found = auth.session(request.headers.get("Cookie"))
        if found is not None:
            if path == WS_PATH:
                self._ws_sessions[connection] = found
            return None
        if path == HEALTH_PATH:  # healthy or not, and nothing else
            ok = bool(self.feed.connected)
            status = http.HTTPStatus.OK if ok else http.HTTPStatus.SERVICE_UNAVAILABLE
            return response(status, orjson.dumps({"ok": ok}), "application/json")
        if path in (WS_PATH, HISTORY_PATH):
            return text_response(http.HTTPStatus.UNAUTHORIZED, "log in first (/login)\n")
        answer = text_response(http.HTTPStatus.UNAUTHORIZED, "log in first: /login\n")
        answer.headers["Refresh"] = f"0; url={LOGIN_PATH}"
        return answer

    async def _login(self, auth: Auth, connection: ServerConnection, request: Request) -> Response:
        client = _peer_host(connection)
        outcome = await auth.attempt(client, request.headers.get("Authorization"))
        if outcome.token is not None:
            session = auth.sessions.get(outcome.token)
            log.info("%s logged in (%s)", session.user if session else "?", _peer(connection))
            answer = response(http.HTTPStatus.OK, b'{"ok":true}', "application/json")
            answer.headers["Set-Cookie"] = auth.cookie(outcome.token)
            return answer
        log.warning("login refused for %s: %s", _peer(connection), outcome.reason)
        body = orjson.dumps({"ok": False, "error": outcome.reason})
        if outcome.retry_after_s > 0:
            answer = response(http.HTTPStatus.TOO_MANY_REQUESTS, body, "application/json")
            answer.headers["Retry-After"] = str(max(1, round(outcome.retry_after_s)))
            return answer
        return response(http.HTTPStatus.UNAUTHORIZED, body, "application/json")

    async def _watch_session(self, ws: ServerConnection, token: str) -> None:
        """Close the websocket once its session has expired (a logout closes it at once)."""
        assert self.auth is not None
        sessions = self.auth.sessions
        session = sessions.get(token)
        if session is not None:  # a session's expiry is fixed when it is made
            await asyncio.sleep(sessions.left_s(session))
        await self._end_session(ws)

    async def _end_session(self, ws: ServerConnection) -> None:
        log.info("closing client %s: its session ended", _peer(ws))
        await ws.close(protocol.CLOSE_POLICY_VIOLATION, "session ended: log in again")

    async def recent_history(self) -> Response:
        """Each sensor's readings of the last HISTORY_WINDOW_S: [[ms since 1970, value], ...]."""
        now = now_us()
        try:
            found = await self.history.recent(HISTORY_POINTS, now - HISTORY_WINDOW_S * 1_000_000)
        except DatabaseUnavailable as error:
            body = orjson.dumps({"error": f"history unavailable: {error}"})
            return response(http.HTTPStatus.SERVICE_UNAVAILABLE, body, "application/json")
        sensors = {
            name: [[at_us // 1000, value] for at_us, value in points]
            for name, points in found.items()
        }
        body = orjson.dumps({"plant": self.plant, "until_ms": now // 1000, "sensors": sensors})
        return response(http.HTTPStatus.OK, body, "application/json")

    def health(self) -> dict[str, object]:
        return {
            "plant": self.plant,
            "broker": self.feed.connected,
            "clients": len(self.hub.clients),
            "sources": len(self.view.picture.sensors),
            "active_alarms": len(self.view.picture.alarms),
            "readings_in": self.hub.readings_in,
            "queued_readings": sum(len(c.queue.readings) for c in self.hub.clients),
            "dropped_readings": sum(c.queue.dropped for c in self.hub.clients),
            "canvasjs": self.assets.canvasjs_present(),
            "login": self.auth is not None,
        }

    # --- websocket -------------------------------------------------------------------------

    async def handle(self, ws: ServerConnection) -> None:
        client = self.hub.join(_peer(ws))
        found = self._ws_sessions.pop(ws, None)
        who = f" as {found[1].user}" if found else ""
        log.info("client %s connected%s (%d clients)", client.peer, who, len(self.hub.clients))
        sending = asyncio.create_task(self._send(ws, client), name=f"send {client.peer}")
        watching = None
        if found:
            self._ws_tokens[ws] = found[0]
            watching = asyncio.create_task(
                self._watch_session(ws, found[0]), name=f"session {client.peer}"
            )
        try:
            await self._receive(ws, client)
        finally:
            self.hub.leave(client)
            self._ws_tokens.pop(ws, None)
            for task in (sending, watching):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            log.info(
                "client %s left (%s): %d messages sent, %d readings dropped",
                client.peer,
                _how_closed(ws),
                client.sent,
                client.queue.dropped,
            )

    async def _receive(self, ws: ServerConnection, client: Client) -> None:
        """Read the client's messages until the connection closes, whoever closes it."""
        bucket = TokenBucket(MESSAGE_BURST, MESSAGE_RATE)
        unknown = 0
        try:
            async for text in ws:
                if not bucket.take():
                    await self._reject(
                        ws, client, protocol.CLOSE_POLICY_VIOLATION, "too many messages"
                    )
                    return
                try:
                    message = protocol.parse(text)
                except protocol.MessageRejected as error:
                    await self._reject(ws, client, error.code, error.reason)
                    return
                if isinstance(message, protocol.Discover):
                    self.hub.state(self.view.discover(), to=client)
                    client.listening = True
                    self.feed.request_snapshot()
                elif isinstance(message, protocol.Hello):
                    client.batch = message.batch
                    client.listening = True
                    client.queue.put_reply(protocol.hello(self.plant, message.batch))
                    client.queue.put_reply(protocol.broker(self.feed.connected))
                else:
                    unknown += 1
                    if unknown > MAX_UNKNOWN_MESSAGES:
                        await self._reject(
                            ws, client, protocol.CLOSE_POLICY_VIOLATION, "too many unknown messages"
                        )
                        return
                    log.info("client %s sent an unknown type %r", client.peer, message.kind)
                    client.queue.put_reply(protocol.error(f"unknown message type {message.kind!r}"))
        except ConnectionClosed:
            pass
        # A message over --max-frame ends here: websockets has closed with 1009.

    async def _reject(self, ws: ServerConnection, client: Client, code: int, reason: str) -> None:
        log.warning("closing client %s (%d): %s", client.peer, code, reason)
        await ws.close(code, reason)

    async def _send(self, ws: ServerConnection, client: Client) -> None:
        """Drain this client's queue into its socket; only this client waits on its socket."""
        queue = client.queue
        try:
            while True:
                state, readings = await queue.take(SEND_BATCH)
                for payload in state:
                    await ws.send(payload, text=True)
                if client.batch:
                    if readings:
                        await ws.send(protocol.readings(readings), text=True)
                else:
                    for data in readings:
                        await ws.send(protocol.reading(data), text=True)
                client.sent += len(state) + len(readings)
        except ConnectionClosed:
            return
        except QueueOverflow as error:
            log.warning("closing client %s (1013): %s", client.peer, error)
            await ws.close(protocol.CLOSE_TRY_AGAIN_LATER, "too slow")
        except Exception:
            log.exception("sending to client %s failed", client.peer)
            await ws.close(1011, "internal error")


def _how_closed(ws: ServerConnection) -> str:
    received, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    if received is not None and (sent is None or ws.protocol.close_rcvd_then_sent):
        return f"it closed with {received.code} {received.reason}".rstrip()
    if sent is not None:
        return f"closed with {sent.code} {sent.reason}".rstrip()
    return "connection lost"


def _single(headers: Headers, name: str) -> str | None:
    """A header that must appear at most once (a second Host could smuggle a name past us)."""
    values = headers.get_all(name)
    if len(values) > 1:
        raise MultipleValuesError(name)
    return values[0] if values else None


def redirect(location: str) -> Response:
    answer = text_response(http.HTTPStatus.SEE_OTHER, f"see {location}\n")
    answer.headers["Location"] = location
    return answer


def _peer_host(connection: ServerConnection) -> str:
    """The client's address without its port: what the login's throttle counts by."""
    address = connection.remote_address
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
