"""Every error controlroom raises on purpose, under one base class, and one way to say what a
failed connection means.

Each of these carries one line meant for the operator: the command-line entry points print it
and exit with status 2 instead of showing a traceback.
"""

from __future__ import annotations

import asyncio
import socket
import ssl


class ControlroomError(Exception):
    """An error whose text is one line an operator can act on."""


class ConfigError(ControlroomError, ValueError):
    """A configuration value or a flag is unusable."""


class InvalidMessage(ControlroomError, ValueError):
    """A message that cannot be used; the text says why."""


class Unavailable(ControlroomError, ConnectionError):
    """A service (the broker, the database) cannot be reached or used just now."""


class BrokerUnreachable(Unavailable):
    """The first connection to the broker failed; the text names the (masked) URL."""


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached or used; the text names the (masked) URL."""


class NotConnected(Unavailable):
    """The broker is away just now; the action can be tried again once it is back."""


class ActionRefused(ControlroomError):
    """The broker refused an operator's action: this login may not do it (a viewer's ack,
    a stop without the right), or the identity on it is not the login's."""


class AccessRefused(ControlroomError):
    """The broker or the database refused this login something its role may not do."""


def access_refused(error: BaseException) -> AccessRefused | None:
    """The refusal an error is (or a task group's errors all are), as one line; None if it
    is none. A refusal at start is a mistake of set-up (the wrong role's file, a plant without
    `broker init`): one line and exit 2, like any."""
    if isinstance(error, BaseExceptionGroup):
        found = [access_refused(inner) for inner in error.exceptions]
        return found[0] if found and all(found) else None
    if type(error).__name__ in ("ChannelAccessRefused", "InsufficientPrivilegeError"):
        return AccessRefused(f"refused: {describe(error)}")
    return None


class NameTaken(ControlroomError):
    """A sensor's (or a source's) name is claimed by another process that is running."""


class QueueMismatch(ControlroomError):
    """A queue exists with other arguments (another type) than this plant's settings give."""


class Unroutable(ControlroomError):
    """The broker confirmed a message that no queue took: it was not delivered."""


def describe(error: BaseException) -> str:
    """One line for a failed connection or operation, whichever library raised it."""
    tls = _describe_tls(error)
    if tls is not None:
        return tls
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    if type(error).__name__ == "ChannelInvalidStateError":
        return "the channel to the broker is closed"  # aio-pika's text is an object's repr
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _describe_tls(error: BaseException) -> str | None:
    """A failed TLS handshake, wherever in the error's chain it sits (aiormq wraps it in its own
    error, whose text is a tuple); None if TLS has nothing to do with it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            reason = current.verify_message or ssl_reason(current)
            return f"TLS: the server's certificate was refused ({reason})"
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake failed ({ssl_reason(current)})"
        current = current.__cause__ or current.__context__
    return None


def ssl_reason(error: BaseException) -> str:
    """An SSL or file error's reason in words (OpenSSL's, without its source location)."""
    if isinstance(error, ssl.SSLError) and error.reason:
        return error.reason.replace("_", " ").lower()
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
