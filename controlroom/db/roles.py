"""What each role may do in a plant's schema, and making its PostgreSQL role (`broker init`).

- owner owns the schema and everything in it: it runs the migrations and the history's
  maintenance (partitions are DDL: made, attached, dropped by their owner only).
- datamanager reads everything and inserts (and upserts) what it stores: readings, sensors,
  runs, run reports, alarms, actions, and the rollups it recomputes; it may not alter the
  schema. The BRIN summaries it asks for run as owner, in one function (sql/030). It also
  stores what operators change through the coordinator (comments, holds, alarm limits).
- coordinator reads what a starting coordinator takes over: alarms, holds, alarm limits.
- viewer reads everything; operator is a viewer (the control room writes nothing itself: an
  operator's actions go through the broker, and the datamanager stores them).

A password goes to the server as a SCRAM-SHA-256 verifier made here, so the statement (which a
server may log) never holds the password itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import asyncpg

from controlroom.db.connection import quote_ident
from controlroom.roles import COORDINATOR, DATAMANAGER, OPERATOR, OWNER, VIEWER, Role

# Tables each writer role changes, and how.
DATAMANAGER_WRITES = {
    "sensor": "INSERT, UPDATE",
    "source_run": "INSERT, UPDATE",
    "run_report": "INSERT, UPDATE",
    "sensor_reading": "INSERT",
    "alarm": "INSERT, UPDATE",
    "action_log": "INSERT, UPDATE",
    "rollup_dirty": "INSERT, DELETE",
    "raw_partition_note": "DELETE",  # a refresh voids a note (rollups._VOID_NOTES)
    "reading_1m": "INSERT, UPDATE, DELETE",
    "reading_1h": "INSERT, UPDATE, DELETE",
    "alarm_comment": "INSERT, UPDATE",
    "alarm_hold": "INSERT, UPDATE",
    "alarm_limit": "INSERT, UPDATE, DELETE",
    "alarm_limit_change": "INSERT, UPDATE",
}
# What a starting coordinator takes over: open alarms, holds, alarm definitions.
COORDINATOR_READS = (
    "alarm",
    "sensor",
    "alarm_limit",
    "alarm_limit_change",
    "alarm_hold",
    "alarm_comment",
)
SCRAM_ITERATIONS = 4096


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802, 7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def ensure_role(connection: asyncpg.Connection, name: str, password: str | None) -> None:
    """A role of this name: a login with this password, or (None) a group without one."""
    exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    role = quote_ident(name)
    if password is None:
        if not exists:
            await connection.execute(f"CREATE ROLE {role} NOLOGIN")
        return
    verifier = scram_verifier(password).replace("'", "''")  # base64: no quote, but still
    verb = "ALTER" if exists else "CREATE"
    await connection.execute(f"{verb} ROLE {role} LOGIN PASSWORD '{verifier}'")


async def drop_role(connection: asyncpg.Connection, name: str) -> None:
    if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
        role = quote_ident(name)
        # What it owns goes to whoever removes it (a plant outlives its owner role), then its
        # privileges go (DROP OWNED then drops nothing else).
        await connection.execute(f"REASSIGN OWNED BY {role} TO current_user")
        await connection.execute(f"DROP OWNED BY {role}")
        await connection.execute(f"DROP ROLE {role}")


async def owns_schema(connection: asyncpg.Connection, plant: str) -> bool:
    """Whether this connection's role may change the plant's schema (owner, or superuser)."""
    return bool(
        await connection.fetchval(
            "SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace "
            "WHERE nspname = $1",
            plant,
        )
    )


async def grant(connection: asyncpg.Connection, role: Role) -> None:
    """The role's rights in its plant's schema (run again after a migration: it is idempotent)."""
    schema = quote_ident(role.plant)
    me = quote_ident(role.database_role)
    kind = role.kind
    database = quote_ident(await connection.fetchval("SELECT current_database()"))
    await connection.execute(f"GRANT CONNECT ON DATABASE {database} TO {me}")
    if kind == OWNER:
        await _hand_over(connection, role.plant, role.database_role)
        await connection.execute(f"GRANT CREATE ON DATABASE {database} TO {me}")
        return
    # Every role sees the schema's names (a refusal then says "permission denied", not "does
    # not exist"); a sensor may read or write nothing in it: a source never uses the database.
    await connection.execute(f"GRANT USAGE ON SCHEMA {schema} TO {me}")
    if kind in (VIEWER, DATAMANAGER):
        await connection.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {me}")
    if kind == OPERATOR:
        viewer = quote_ident(Role(role.plant, VIEWER).database_role)
        await connection.execute(f"GRANT {viewer} TO {me}")
    if kind == COORDINATOR:
        for table in COORDINATOR_READS:
            await connection.execute(f"GRANT SELECT ON {schema}.{quote_ident(table)} TO {me}")
    if kind == DATAMANAGER:
        for table, rights in DATAMANAGER_WRITES.items():
            await connection.execute(f"GRANT {rights} ON {schema}.{quote_ident(table)} TO {me}")
        await connection.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {me}")
        await connection.execute(
            f"GRANT EXECUTE ON FUNCTION {schema}.summarize_new_ranges() TO {me}"
        )


async def _hand_over(connection: asyncpg.Connection, plant: str, owner: str) -> None:
    """The owner role owns the schema and every table, sequence and function in it (whoever
    made them: a plant migrated before roles existed was made by the superuser)."""
    schema, to = quote_ident(plant), quote_ident(owner)
    await connection.execute(f"ALTER SCHEMA {schema} OWNER TO {to}")
    rows = await connection.fetch(
        """
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'S')
          AND pg_get_userbyid(c.relowner) <> $2
          AND NOT EXISTS (  -- a sequence owned by a column goes with its table
            SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
              AND c.relkind = 'S')
        """,
        plant,
        owner,
    )
    for row in rows:
        kind = "SEQUENCE" if row["relkind"] == "S" else "TABLE"
        await connection.execute(
            f"ALTER {kind} {schema}.{quote_ident(row['relname'])} OWNER TO {to}"
        )
    for row in await connection.fetch(
        "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p "
        "WHERE p.pronamespace = $1::regnamespace AND pg_get_userbyid(p.proowner) <> $2",
        plant,
        owner,
    ):
        await connection.execute(f"ALTER FUNCTION {row['signature']} OWNER TO {to}")
