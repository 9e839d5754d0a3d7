"""`controlroom-worker bridge`: the browser view of the plant over a websocket.

Serves the page at / and the original Go web client's protocol at /ws, fed by the
coordinator's events through the shared viewer feed (`controlroom.broker.feed`). Modules:
`protocol` (the browser's wire format), `view` (known sensors and alarms, over the plant
picture), `hub` (per-client bounded queues), `access` (Origin and Host), `login` (users,
sessions, the throttle), `assets` (the page's files, in `web/`), `server` (HTTP and websocket
handling).

Off loopback the bridge requires a login (`--users-file`) and refuses to start without one
unless told `--insecure-no-auth`; `--tls-cert`/`--tls-key` serve https and wss.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
from pathlib import Path

from websockets.asyncio.server import serve

from controlroom.config import DEFAULT_BRIDGE_PORT, Settings
from controlroom.errors import ConfigError
from controlroom.tls import server_context
from workers.bridge.access import Access, is_loopback
from workers.bridge.assets import FETCH_COMMAND, Assets
from workers.bridge.folding import DEFAULT_MAX_RATE_HZ, MAX_RATE_HZ
from workers.bridge.hub import Hub
from workers.bridge.login import DEFAULT_SESSION_HOURS, Auth, Users
from workers.bridge.server import Bridge, Limits
from workers.bridge.view import PlantView
from workers.lifecycle import stop_on_signals

HELP = "serve the browser view (page at /, websocket at /ws) of the plant's live events"

log = logging.getLogger("workers.bridge")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_BRIDGE_PORT,
        help=f"TCP port; 0 picks a free one (default {DEFAULT_BRIDGE_PORT})",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="also accept websockets from pages at this origin, e.g. http://example:8080 "
        "(repeatable; the bridge's own origin is always accepted)",
    )
    login = parser.add_argument_group("login and TLS")
    login.add_argument(
        "--users-file",
        type=Path,
        metavar="FILE",
        help="require a login by the users in FILE (made by `controlroom-worker bridge-user "
        "add`); required when --host is not a loopback address",
    )
    login.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="listen on a non-loopback address without a login: anyone who can reach it sees "
        "the plant",
    )
    login.add_argument(
        "--session-hours",
        type=float,
        default=DEFAULT_SESSION_HOURS,
        metavar="H",
        help=f"how long a login lasts (default {DEFAULT_SESSION_HOURS:g})",
    )
    login.add_argument(
        "--tls-cert", metavar="PEM", help="serve https and wss with this certificate (chain)"
    )
    login.add_argument("--tls-key", metavar="PEM", help="the --tls-cert's key")
    parser.add_argument(
        "--max-clients", type=int, default=1000, help="websocket clients at once (default 1000)"
    )
    parser.add_argument(
        "--client-queue",
        type=int,
        default=10_000,
        metavar="N",
        help="readings buffered per client before its oldest are dropped (default 10000: a few "
        "flushes of a plant's every sensor)",
    )
    parser.add_argument(
        "--max-rate-per-sensor",
        type=float,
        default=DEFAULT_MAX_RATE_HZ,
        metavar="HZ",
        help="readings a second each client gets per sensor at most; faster ones are folded into "
        f"the latest, with the min and max of what was folded (default {DEFAULT_MAX_RATE_HZ:g})",
    )
    parser.add_argument(
        "--max-frame",
        type=int,
        default=4096,
        metavar="BYTES",
        help="largest message a client may send, in bytes (default 4096)",
    )
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds between keepalive pings (default 20)",
    )
    parser.add_argument(
        "--ping-timeout",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds a client has to answer a ping before it is dropped (default 20)",
    )


def _check(args: argparse.Namespace) -> Access:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a TCP port")
    for flag, value, low in (
        ("--max-clients", args.max_clients, 1),
        ("--client-queue", args.client_queue, 10),
        ("--max-frame", args.max_frame, 256),
    ):
        if value < low:
            raise ConfigError(f"{flag} must be at least {low}")
    if not 0.1 <= args.max_rate_per_sensor <= MAX_RATE_HZ:
        raise ConfigError(f"--max-rate-per-sensor must be between 0.1 and {MAX_RATE_HZ:g} Hz")
    if args.ping_interval <= 0 or args.ping_timeout <= 0:
        raise ConfigError("--ping-interval and --ping-timeout must be positive")
    if not 0 < args.session_hours <= 24 * 30:
        raise ConfigError("--session-hours must be more than 0 and at most 720 (30 days)")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    if not is_loopback(args.host) and args.users_file is None and not args.insecure_no_auth:
        raise ConfigError(
            f"the bridge will not listen on {args.host} without a login: give --users-file "
            "FILE (controlroom-worker bridge-user add NAME --users-file FILE), or "
            "--insecure-no-auth to show the plant to anyone who can reach it"
        )
    return Access(args.host, args.allow_origin)


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.tls_cert:
        return None
    return server_context(args.tls_cert, args.tls_key, "bridge TLS")


def _auth(args: argparse.Namespace, secure: bool) -> Auth | None:
    if args.users_file is None:
        return None
    users = Users.load(args.users_file)
    if not len(users):
        raise ConfigError(
            f"users file {str(args.users_file)!r} has no users: add one with "
            "`controlroom-worker bridge-user add NAME`"
        )
    return Auth(users, session_ttl_s=args.session_hours * 3600, secure=secure)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    access = _check(args)
    tls = _tls(args)
    auth = _auth(args, secure=tls is not None)
    if auth is None and not is_loopback(args.host):
        log.warning(
            "listening on %s without a login (--insecure-no-auth): the plant is visible to "
            "anyone on this network",
            args.host,
        )
    elif auth is not None and not is_loopback(args.host):
        log.info("listening on %s: a login is required (%d users)", args.host, len(auth.users))
        if tls is None:
            log.warning("no --tls-cert: passwords and the session cookie travel unencrypted")
    if log.getEffectiveLevel() > logging.DEBUG:
        # websockets logs every plain HTTP response at INFO; the bridge logs what matters.
        logging.getLogger("websockets").setLevel(logging.WARNING)

    hub = Hub(max_readings=args.client_queue, max_state=max(1000, 4 * args.client_queue))
    assets = Assets()
    bridge = Bridge(
        settings=settings,
        hub=hub,
        view=PlantView(),
        access=access,
        assets=assets,
        limits=Limits(max_clients=args.max_clients, max_rate_per_sensor=args.max_rate_per_sensor),
        auth=auth,
    )
    feed = bridge.feed
    await feed.start()
    try:
        server = await serve(
            bridge.handle,
            args.host,
            args.port,
            process_request=bridge.process_request,
            max_size=args.max_frame,
            max_queue=4,
            # Compression would deflate every message once per client: CPU for nothing on a LAN.
            compression=None,
            ping_interval=args.ping_interval,
            ping_timeout=args.ping_timeout,
            close_timeout=2,
            ssl=tls,
        )
    except OSError as error:
        await feed.close()
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
        ) from None

    port = server.sockets[0].getsockname()[1] if server.sockets else args.port
    host = f"[{args.host}]" if ":" in args.host else args.host
    scheme = "https" if tls else "http"
    log.info("listening on %s://%s:%d/ (plant %s)", scheme, host, port, settings.plant)
    if not assets.canvasjs_present():
        log.warning("CanvasJS is missing: the page will show no charts; run %s", FETCH_COMMAND)

    with stop_on_signals() as stopping:
        try:
            async with server, asyncio.TaskGroup() as tasks:
                following = tasks.create_task(feed.run(), name="viewer feed")
                folding = tasks.create_task(bridge.folding.run(), name="folding")
                await stopping.wait()
                log.info("stopping: closing %d client connections", len(hub.clients))
                following.cancel()
                folding.cancel()
        finally:
            await feed.close()
            await bridge.history.close()
    log.info("stopped")
    return 0
