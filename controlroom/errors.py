"""Every error controlroom raises on purpose, under one base class, and one way to say what a
failed connection means.

Each of these carries one line meant for the operator: the command-line entry points print it
and exit with status 2 instead of showing a traceback.
"""

from __future__ import annotations

import asyncio
import socket


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


class NameTaken(ControlroomError):
    """A sensor's (or a source's) name is claimed by another process that is running."""


class QueueMismatch(ControlroomError):
    """A queue exists with other arguments (another type) than this plant's settings give."""


class Unroutable(ControlroomError):
    """The broker confirmed a message that no queue took: it was not delivered."""


def describe(error: BaseException) -> str:
    """One line for a failed connection or operation, whichever library raised it."""
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    if type(error).__name__ == "ChannelInvalidStateError":
        return "the channel to the broker is closed"  # aio-pika's text is an object's repr
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
