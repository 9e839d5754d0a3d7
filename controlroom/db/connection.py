"""Connections bound to a plant's schema, and creating the database when it is missing."""

from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from controlroom.config import Settings
from controlroom.errors import DatabaseUnavailable, describe
from controlroom.tls import database_context

CONNECT_TIMEOUT_S = 10.0

# What a connection attempt raises when the server is down, restarting or refusing us.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def connect(settings: Settings, *, schema: bool = True) -> asyncpg.Connection:
    """A connection whose search_path is the plant's schema (over TLS when the URL's sslmode
    asks for a verified server: the context comes from `controlroom.tls`)."""
    server_settings = {"search_path": settings.plant} if schema else {}
    server_settings["application_name"] = f"controlroom ({settings.plant})"
    context = database_context(settings.database_url)
    try:
        return await asyncpg.connect(
            settings.database_url,
            timeout=CONNECT_TIMEOUT_S,
            server_settings=server_settings,
            **({"ssl": context} if context is not None else {}),
        )
    except CONNECTION_ERRORS as error:
        raise DatabaseUnavailable(
            f"cannot reach the database at {settings.database_display}: {describe(error)}"
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise DatabaseUnavailable(
            f"database at {settings.database_display} does not exist: "
            "run `controlroom-worker db init`"
        ) from None
    except asyncpg.PostgresError as error:
        raise DatabaseUnavailable(
            f"database at {settings.database_display} refused us: {describe(error)}"
        ) from None


async def ensure_database(settings: Settings) -> bool:
    """Create the database named in the URL if it is missing; True if it was created."""
    try:
        connection = await connect(settings, schema=False)
    except DatabaseUnavailable as error:
        if "does not exist" not in str(error):
            raise
    else:
        await connection.close()
        return False
    parts = urlsplit(settings.database_url)
    name = parts.path.lstrip("/")
    maintenance = dataclasses.replace(
        settings, database_url=urlunsplit(parts._replace(path="/postgres"))
    )
    connection = await connect(maintenance, schema=False)
    try:
        await connection.execute(f"CREATE DATABASE {quote_ident(name)}")
    except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        return False  # made meanwhile by someone else (two test sessions start at once)
    finally:
        await connection.close()
    return True
