"""One maintenance round of a plant's history: partitions ahead, strays adopted, retention.

Every step is idempotent (a second run finds nothing to do), so the datamanager runs it on a
schedule, an operator by hand (`controlroom-worker db maintain`), and several datamanagers at
once: one holds the plant's maintenance lock and the others skip the round.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from controlroom.db import partitions
from controlroom.db.partitions import Partition
from controlroom.db.policy import HistoryPolicy, load_policy

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MaintenanceReport:
    policy: HistoryPolicy
    ran: bool = True  # False: another maintainer held the lock
    made: list[Partition] = field(default_factory=list)
    moved: int = 0
    dropped: list[Partition] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ran:
            return "maintenance skipped: another maintainer is running it"
        return (
            f"maintenance: {len(self.made)} partitions made ahead, {self.moved} readings moved "
            f"out of the default partition, {len(self.dropped)} partitions dropped by retention"
        )


def lock_key(schema: str) -> int:
    """The plant's maintenance advisory lock (one per schema; a 32-bit CRC is plenty)."""
    return 0x6D61_0000_0000 | zlib.crc32(schema.encode())


async def maintain(
    connection: asyncpg.Connection,
    now: datetime | None = None,
    *,
    wait: bool = False,
    retention: bool = True,
) -> MaintenanceReport:
    """One round; with `wait`, wait for another maintainer instead of skipping; without
    `retention`, nothing is dropped (what migrate() runs, so a new plant has its partitions)."""
    schema = await connection.fetchval("SELECT current_schema()")
    key = lock_key(schema)
    if wait:
        await connection.execute("SELECT pg_advisory_lock($1)", key)
    elif not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
        return MaintenanceReport(await load_policy(connection), ran=False)
    try:
        # Bounds are read back as text: in UTC, so they parse the same everywhere.
        await connection.execute("SET timezone = 'UTC'")
        moment = now or datetime.now(UTC)
        policy = await load_policy(connection)
        report = MaintenanceReport(policy)
        report.moved = await partitions.adopt_strays(connection, policy)
        report.made = await partitions.make_ahead(connection, policy, moment)
        if retention:
            report.dropped = await partitions.drop_expired(connection, policy, moment)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", key)
    return report
