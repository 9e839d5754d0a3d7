"""The browser view's login: users in a file, scrypt hashes, server-side sessions, and guessers
slowed down.

A bridge bound to anything but loopback requires it (`--users-file`), unless told
`--insecure-no-auth`. The page's login form sends `GET /login` with an `Authorization: Basic`
header (the websocket server reads no request bodies, and a header never lands in a URL, a log
or a browser's history); a right password gets a session cookie: a random token (256 bits)
that names a session the bridge keeps in memory until it expires (`--session-hours`), HttpOnly,
SameSite=Strict, and Secure when the bridge serves https.

The users file (`--users-file`, made by `controlroom-worker bridge-user add NAME`): one user a
line, `NAME:scrypt:N:r:p:SALT:HASH` (salt and hash base64), `#` starts a comment. scrypt is
memory-hard and in the standard library; its cost is written on each line, so a later, higher
cost applies to passwords as they are set again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import math
import os
import re
import secrets
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controlroom.errors import ConfigError

# scrypt's cost: 128 * r * N bytes of memory (16 MiB) and some 50 ms of one core per check.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 256 * 1024 * 1024
SALT_BYTES = 16
HASH_BYTES = 32

USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 8

COOKIE = "controlroom_session"
DEFAULT_SESSION_HOURS = 12.0
MAX_SESSIONS = 10_000

# Bad passwords in a row that cost nothing; after them, each try waits twice as long as the
# one before, up to a minute, per client address and per user name alike.
FREE_FAILURES = 5
MAX_DELAY_S = 60.0
MAX_TRACKED = 10_000


def hash_password(password: str) -> str:
    """The users file's form of a password: `scrypt:N:r:p:SALT:HASH`."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return ":".join(
        ("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest))
    )


def verify_password(password: str, encoded: str) -> bool:
    """Whether the password is the one `encoded` was made from (compared in constant time)."""
    try:
        kind, n, r, p, salt, digest = encoded.split(":")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        found = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(found, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=HASH_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# A hash no password matches, checked for an unknown user so that a wrong name costs as long
# as a wrong password (no telling which names exist by the time an answer takes).
_NOBODY = hash_password(secrets.token_urlsafe(16))


def check_user_name(name: str) -> None:
    if not USER_NAME.fullmatch(name):
        raise ConfigError(f"user name {name[:70]!r} is not usable: 1-64 letters, digits or . _ @ -")


class Users:
    """The users file as read at start."""

    def __init__(self, hashes: dict[str, str]) -> None:
        self._hashes = hashes

    @classmethod
    def load(cls, path: Path) -> Users:
        return cls(read_users(path))

    def __len__(self) -> int:
        return len(self._hashes)

    def check(self, name: str, password: str) -> bool:
        """Blocking (scrypt): call it in a thread."""
        encoded = self._hashes.get(name)
        matched = verify_password(password, encoded or _NOBODY)
        return matched and encoded is not None


def read_users(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            f"users file {str(path)!r} does not exist: add a user with "
            "`controlroom-worker bridge-user add NAME --users-file FILE`"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"users file {str(path)!r} cannot be read: {error}") from None
    hashes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, encoded = line.partition(":")
        if not USER_NAME.fullmatch(name) or len(encoded.split(":")) != 6:
            raise ConfigError(
                f"users file {str(path)!r}, line {number}: not NAME:scrypt:N:r:p:SALT:HASH"
            )
        hashes[name] = encoded
    return hashes


def write_users(path: Path, hashes: dict[str, str]) -> None:
    """The whole file, written beside it (mode 0600) and renamed into place."""
    lines = [
        "# controlroom bridge users: NAME:scrypt:N:r:p:SALT:HASH (controlroom-worker bridge-user)"
    ]
    lines += [f"{name}:{encoded}" for name, encoded in sorted(hashes.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@dataclass(slots=True)
class Session:
    user: str
    expires: float  # monotonic seconds


class Sessions:
    """Tokens to sessions, in memory: a restarted bridge asks everyone to log in again."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def create(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        self._sessions[token] = Session(user, self._clock() + self.ttl_s)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)  # the oldest
        return token

    def get(self, token: str | None) -> Session | None:
        """The live session a token names; an expired one is forgotten."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires <= self._clock():
            del self._sessions[token]
            return None
        return session

    def end(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)

    def left_s(self, session: Session) -> float:
        return max(0.0, session.expires - self._clock())


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0


class Throttle:
    """Bad passwords in a row, per client address and per user name: after FREE_FAILURES,
    another try must wait 1, 2, 4 ... up to MAX_DELAY_S seconds after the last failure (the
    right password too, so guessing gains nothing by waiting out only one of the two)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def wait_s(self, *keys: str) -> float:
        """Seconds before a try is heard for these keys; 0 if now."""
        now = self._clock()
        return max((self._wait(self._failures.get(key), now) for key in keys), default=0.0)

    @staticmethod
    def _wait(failures: _Failures | None, now: float) -> float:
        if failures is None or failures.count < FREE_FAILURES:
            return 0.0
        delay = min(MAX_DELAY_S, 2.0 ** (failures.count - FREE_FAILURES))
        return max(0.0, failures.last + delay - now)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            entry = self._failures.pop(key, None) or _Failures()
            entry.count += 1
            entry.last = now
            self._failures[key] = entry  # the most recent last, so the oldest go first
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """`Authorization: Basic base64(user:password)` as a pair, or None if it is not one."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def cookie_token(header: str | None) -> str | None:
    """The session token in a Cookie header, if there is one."""
    if not header:
        return None
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def set_cookie(token: str, max_age_s: float, *, secure: bool) -> str:
    attributes = [f"{COOKIE}={token}", "Path=/", "HttpOnly", "SameSite=Strict"]
    attributes.append(f"Max-Age={max(0, math.floor(max_age_s))}")
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)


def clear_cookie(*, secure: bool) -> str:
    return set_cookie("", 0, secure=secure)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a login attempt came to: a session token, or a refusal (and how long to wait)."""

    token: str | None = None
    retry_after_s: float = 0.0
    reason: str = ""


class Auth:
    """The login as the bridge applies it: users, sessions, the throttle, the cookie's flags."""

    def __init__(
        self,
        users: Users,
        *,
        session_ttl_s: float,
        secure: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = users
        self.sessions = Sessions(session_ttl_s, clock)
        self.throttle = Throttle(clock)
        self.secure = secure
        self._checking: set[str] = set()  # keys with a check under way

    def session(self, cookie_header: str | None) -> tuple[str, Session] | None:
        token = cookie_token(cookie_header)
        session = self.sessions.get(token)
        return (token, session) if token and session else None

    async def attempt(self, client: str, authorization: str | None) -> Outcome:
        """Check a login (scrypt in a thread); slowed down after repeated failures."""
        pair = parse_basic(authorization)
        if pair is None:
            return Outcome(reason="no user and password given")
        user, password = pair
        keys = (f"client {client}", f"user {user[:64]}")
        wait = self.throttle.wait_s(*keys)
        if wait > 0 or any(key in self._checking for key in keys):
            return Outcome(retry_after_s=max(wait, 1.0), reason="too many bad passwords")
        self._checking.update(keys)
        try:
            right = await asyncio.to_thread(self.users.check, user, password)
        finally:
            self._checking.difference_update(keys)
        if not right:
            self.throttle.failed(*keys)
            return Outcome(reason="wrong user or password")
        self.throttle.succeeded(*keys)
        return Outcome(token=self.sessions.create(user))

    def cookie(self, token: str) -> str:
        return set_cookie(token, self.sessions.ttl_s, secure=self.secure)

    def cleared_cookie(self) -> str:
        return clear_cookie(secure=self.secure)
