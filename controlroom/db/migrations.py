"""Numbered SQL migrations (sql/NNN_name.sql), applied in order, once each, per plant schema."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from controlroom.config import Settings
from controlroom.db.connection import connect, quote_ident
from controlroom.db.maintenance import maintain

log = logging.getLogger(__name__)

MIGRATION_FILE = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")
# Serialises concurrent `db init` runs against one database.
LOCK_KEY = 0x636F6E74726F6C


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path


def sql_directory() -> Path:
    """sql/ beside the package in a checkout, or inside it in an installed wheel."""
    for candidate in (
        Path(__file__).resolve().parents[1] / "_sql",
        Path(__file__).resolve().parents[2] / "sql",
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the sql/ migrations folder is missing from this installation")


def discover(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted((directory or sql_directory()).glob("*.sql")):
        match = MIGRATION_FILE.fullmatch(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path))
    return found


async def migrate(settings: Settings, upto: int | None = None) -> list[Migration]:
    """Create the plant's schema if needed, apply the migrations it lacks (up to `upto`, for
    tests of a migration) and make the readings' partitions ahead."""
    connection = await connect(settings)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            done = await _apply_missing(connection, settings.plant, upto)
            if await connection.fetchval("SELECT to_regclass('history_policy') IS NOT NULL"):
                await maintain(connection, wait=True, retention=False, refresh=False)
            return done
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await connection.close()


async def _apply_missing(
    connection: asyncpg.Connection, schema: str, upto: int | None
) -> list[Migration]:
    await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    await connection.execute(
        """CREATE TABLE IF NOT EXISTS schema_migration (
               version integer PRIMARY KEY,
               name text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    applied = {
        row["version"] for row in await connection.fetch("SELECT version FROM schema_migration")
    }
    done = []
    for migration in discover():
        if migration.version in applied or (upto is not None and migration.version > upto):
            continue
        async with connection.transaction():
            await connection.execute(migration.path.read_text())
            await connection.execute(
                "INSERT INTO schema_migration (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        log.info(
            "applied migration %03d_%s to schema %s", migration.version, migration.name, schema
        )
        done.append(migration)
    return done


async def drop_plant(settings: Settings) -> None:
    """Remove a plant's schema and everything in it (tests and benchmarks clean up with this)."""
    connection = await connect(settings, schema=False)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {quote_ident(settings.plant)} CASCADE")
    finally:
        await connection.close()
