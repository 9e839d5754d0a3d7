"""The browser view's login: off loopback the bridge refuses to start without one, refuses every
path but the login page without a session, gives a session cookie with the right flags for a
right password, slows down bad passwords, and serves https and wss when given a certificate."""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import trustme
from websockets.exceptions import InvalidStatus

from controlroom.errors import ConfigError
from tests.bridge.conftest import RunningBridge, StartBridge
from tests.bridge.fakes import Browser, FakeCoordinator
from tests.support import Worker
from workers.bridge import login
from workers.bridge.login import (
    FREE_FAILURES,
    MAX_DELAY_S,
    Sessions,
    Throttle,
    Users,
    hash_password,
    read_users,
    verify_password,
    write_users,
)

PASSWORD = "correct horse battery"
OTHER_ADDRESS = "127.0.0.2"  # a second client: the whole of 127/8 is loopback on Linux


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


Answer = tuple[int, http.client.HTTPMessage, bytes]


def _get(
    address: str, path: str, headers: dict[str, str], source: str | None,
    context: ssl.SSLContext | None,
) -> Answer:  # fmt: skip
    host, _, port = address.rpartition(":")
    bind = (source, 0) if source else None
    connection = (
        http.client.HTTPSConnection(
            host, int(port), timeout=10, source_address=bind, context=context
        )
        if context
        else http.client.HTTPConnection(host, int(port), timeout=10, source_address=bind)
    )
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


async def get(
    bridge: RunningBridge,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    source: str | None = None,
    context: ssl.SSLContext | None = None,
) -> Answer:
    return await asyncio.to_thread(_get, bridge.address, path, headers or {}, source, context)


def session_cookie(answer: Answer) -> str:
    """The `name=token` part of the login's Set-Cookie (what a browser sends back)."""
    return answer[1]["Set-Cookie"].split(";")[0]


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users"
    write_users(path, {"ann": hash_password(PASSWORD), "bob": hash_password(PASSWORD + "!")})
    return path


async def on_all_addresses(start_bridge: StartBridge, *args: str) -> RunningBridge:
    """A bridge bound to 0.0.0.0 (not loopback: the login is required), reached by 127.0.0.1."""
    bridge = await start_bridge("--host", "0.0.0.0", *args)
    bridge.address = bridge.address.replace("0.0.0.0", "127.0.0.1")
    return bridge


@pytest.fixture
async def guarded(
    start_bridge: StartBridge, users_file: Path, coordinator: FakeCoordinator
) -> RunningBridge:
    return await on_all_addresses(start_bridge, "--users-file", str(users_file))


async def test_off_loopback_without_a_login_it_refuses_to_start(
    start_worker: Callable[..., Worker],
) -> None:
    refused = start_worker("bridge", "--host", "0.0.0.0", "--port", "0", log_name="refused")
    assert await refused.wait(20) == 2
    lines = refused.log_text().strip().splitlines()
    assert len(lines) == 1, lines
    assert "will not listen on 0.0.0.0 without a login: give --users-file" in lines[0]
    assert "--insecure-no-auth" in lines[0]


async def test_the_supervisor_says_so_once_instead_of_restarting_a_refused_bridge(
    start_worker: Callable[..., Worker],
) -> None:
    plant = start_worker(
        "plant", "--bridge-host", "0.0.0.0", "--no-sensors", "--no-roles", log_name="plant"
    )
    assert await plant.wait(20) == 2
    lines = plant.log_text().strip().splitlines()
    assert len(lines) == 1 and "give --bridge-users-file FILE" in lines[0], lines


async def test_insecure_no_auth_is_heard_and_said(
    start_bridge: StartBridge, coordinator: FakeCoordinator
) -> None:
    bridge = await on_all_addresses(start_bridge, "--insecure-no-auth")
    assert "without a login (--insecure-no-auth)" in bridge.worker.log_text()
    status, _, body = await get(bridge, "/healthz")
    assert status == 200 and b'"plant"' in body  # open, as asked


async def test_without_a_session_only_the_login_page_is_served(guarded: RunningBridge) -> None:
    for path in ("/", "/index.html", "/app.js", "/history", "/ws"):
        status, _, _ = await get(guarded, path)
        assert status == 401, path
    status, headers, _ = await get(guarded, "/")
    assert headers["Refresh"] == "0; url=/login"
    # Healthy or not, and nothing about the plant: a monitor without a login can still probe.
    status, _, body = await get(guarded, "/healthz")
    assert (status, orjson.loads(body)) == (200, {"ok": True})
    with pytest.raises(InvalidStatus) as refused:
        async with Browser.open(guarded.ws_url):
            pass
    assert refused.value.response.status_code == 401
    for path in ("/login", "/login.js", "/style.css"):
        status, _, _ = await get(guarded, path)
        assert status == 200, path
    # A made-up cookie opens nothing.
    status, _, _ = await get(guarded, "/", headers={"Cookie": f"{login.COOKIE}=made-up"})
    assert status == 401


async def test_a_right_password_gives_a_session_that_opens_the_view(
    guarded: RunningBridge,
) -> None:
    wrong = await get(guarded, "/login", headers={"Authorization": basic("ann", "nope")})
    assert wrong[0] == 401 and "Set-Cookie" not in wrong[1]
    right = await get(guarded, "/login", headers={"Authorization": basic("ann", PASSWORD)})
    assert right[0] == 200
    flags = [part.strip() for part in right[1]["Set-Cookie"].split(";")]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(flags)
    assert "Secure" not in flags  # plain http: a Secure cookie would never come back
    assert f"Max-Age={12 * 3600}" in flags
    cookie = {"Cookie": session_cookie(right)}

    for path in ("/", "/app.js", "/history"):
        status, _, _ = await get(guarded, path, headers=cookie)
        assert status == 200, path
    status, _, body = await get(guarded, "/healthz", headers=cookie)
    assert status == 200 and "plant" in orjson.loads(body)

    async with Browser.open(guarded.ws_url, additional_headers=cookie) as browser:
        await browser.send({"type": "hello", "data": {"batch": True}})
        await browser.wait(lambda b: b.of("hello"), "the hello")
        # Logging out ends the session and its websocket, and the cookie opens nothing more.
        status, headers, _ = await get(guarded, "/logout", headers=cookie)
        assert status == 303 and headers["Location"] == "/login"
        closed = await browser.wait_closed()
        assert closed.rcvd is not None and closed.rcvd.code == 1008
        assert closed.rcvd.reason.startswith("session ended")
    status, _, _ = await get(guarded, "/", headers=cookie)
    assert status == 401
    log = guarded.worker.log_text()
    assert PASSWORD not in log and session_cookie(right).partition("=")[2] not in log
    assert "ann logged in" in log and "ann logged out" in log


async def test_twenty_bad_passwords_in_a_row_are_slowed_down(guarded: RunningBridge) -> None:
    statuses = []
    for _ in range(20):
        status, headers, _ = await get(
            guarded, "/login", headers={"Authorization": basic("ann", "guess")}
        )
        statuses.append(status)
        if status == 429:
            assert int(headers["Retry-After"]) >= 1
    assert statuses[:FREE_FAILURES] == [401] * FREE_FAILURES
    assert statuses[FREE_FAILURES:] == [429] * (20 - FREE_FAILURES)
    # Slowed down means the right password too, from this client or for this user elsewhere.
    right = {"Authorization": basic("ann", PASSWORD)}
    assert (await get(guarded, "/login", headers=right))[0] == 429
    assert (await get(guarded, "/login", headers=right, source=OTHER_ADDRESS))[0] == 429
    # Another user from another client is not held up by the guesser.
    bob = {"Authorization": basic("bob", PASSWORD + "!")}
    assert (await get(guarded, "/login", headers=bob, source=OTHER_ADDRESS))[0] == 200
    assert (await get(guarded, "/login", headers=bob))[0] == 429  # but not from its address


async def test_https_and_wss_with_a_secure_cookie(
    start_bridge: StartBridge, users_file: Path, coordinator: FakeCoordinator, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "bridge.pem"))
    server.private_key_pem.write_to_path(str(tmp_path / "bridge.key"))
    bridge = await on_all_addresses(
        start_bridge, "--users-file", str(users_file),
        "--tls-cert", str(tmp_path / "bridge.pem"), "--tls-key", str(tmp_path / "bridge.key"),
    )  # fmt: skip
    assert bridge.scheme == "https"
    context = ssl.create_default_context()
    ca.configure_trust(context)
    right = await get(
        bridge, "/login", headers={"Authorization": basic("ann", PASSWORD)}, context=context
    )
    assert right[0] == 200
    assert "Secure" in [part.strip() for part in right[1]["Set-Cookie"].split(";")]
    cookie = {"Cookie": session_cookie(right)}
    async with Browser.open(bridge.ws_url, additional_headers=cookie, ssl=context) as browser:
        await browser.send({"type": "hello", "data": {"batch": True}})
        await browser.wait(lambda b: b.of("hello"), "the hello over wss")


def test_bridge_user_reads_the_password_from_stdin_never_argv(tmp_path: Path) -> None:
    path = tmp_path / "users"
    command = [sys.executable, "-m", "workers.cli", "bridge-user", "add", "cy", "--users-file"]
    added = subprocess.run(
        [*command, str(path)], input=f"{PASSWORD}\n", capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert Users.load(path).check("cy", PASSWORD)
    short = subprocess.run(
        [*command, str(path)], input="short\n", capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


# --- the pieces, without a bridge -------------------------------------------------------------


def test_a_password_hash_checks_only_its_password() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("scrypt:16384:8:1:") and PASSWORD not in encoded
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD + "x", encoded)
    assert hash_password(PASSWORD) != encoded  # salted
    tampered = encoded[:-4] + ("AAA=" if not encoded.endswith("AAA=") else "BBB=")
    assert not verify_password(PASSWORD, tampered)
    assert not verify_password(PASSWORD, "md5:whatever")
    assert not Users({"ann": encoded}).check("nobody", PASSWORD)


def test_a_bad_users_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("# a comment\nann:not-a-hash\n")
    with pytest.raises(ConfigError, match="line 2: not NAME:scrypt"):
        read_users(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_users(tmp_path / "missing")


def test_the_throttle_doubles_the_wait_after_the_free_failures() -> None:
    now = [1000.0]
    throttle = Throttle(clock=lambda: now[0])
    for _ in range(FREE_FAILURES):
        assert throttle.wait_s("client a", "user ann") == 0
        throttle.failed("client a", "user ann")
    assert throttle.wait_s("client a") == 1.0
    now[0] += 1.0
    assert throttle.wait_s("client a") == 0  # one more try, then twice as long
    throttle.failed("client a", "user ann")
    assert throttle.wait_s("user ann") == 2.0
    for _ in range(20):
        throttle.failed("client a")
    assert throttle.wait_s("client a") == MAX_DELAY_S
    assert throttle.wait_s("client b", "user bob") == 0
    throttle.succeeded("client a", "user ann")
    assert throttle.wait_s("client a", "user ann") == 0


def test_sessions_expire_on_the_server() -> None:
    now = [0.0]
    sessions = Sessions(ttl_s=60, clock=lambda: now[0])
    token = sessions.create("ann")
    assert len(token) >= 43 and sessions.get(token) is not None
    now[0] = 59.9
    assert sessions.get(token) is not None
    now[0] = 60.0
    assert sessions.get(token) is None
    other = sessions.create("ann")
    sessions.end(other)
    assert sessions.get(other) is None
