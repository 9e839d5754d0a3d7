"""One maintenance round of a plant's history: partitions ahead, strays adopted, rollups
refreshed and their closed partitions packed, closed raw partitions' horizons noted and their
keys rebuilt, retention.

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

from controlroom.db import partitions, rollups
from controlroom.db.partitions import Dropped, Partition, raw_series
from controlroom.db.policy import HistoryPolicy, load_policy

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MaintenanceReport:
    policy: HistoryPolicy
    ran: bool = True  # False: another maintainer held the lock
    made: list[Partition] = field(default_factory=list)
    moved: int = 0
    dropped: list[Dropped] = field(default_factory=list)
    rolled_minutes: int = 0
    rolled_hours: int = 0
    packed: list[Partition] = field(default_factory=list)  # closed rollup partitions rewritten
    rekeyed: list[Partition] = field(default_factory=list)  # closed raw partitions' keys rebuilt
    noted: list[Partition] = field(default_factory=list)  # closed raw partitions' horizons noted

    @property
    def changed(self) -> bool:
        """Whether the round did anything (a round that did nothing is not worth a log line)."""
        return bool(
            self.made or self.moved or self.dropped or self.packed or self.rekeyed or self.noted
        )

    def summary(self) -> str:
        if not self.ran:
            return "maintenance skipped: another maintainer is running it"
        return (
            f"maintenance: {len(self.made)} partitions made ahead, {self.moved} readings moved "
            f"out of the default partition, {self.rolled_minutes} minutes and {self.rolled_hours} "
            f"hours rolled up, {len(self.packed)} closed rollup partitions packed, "
            f"{len(self.noted)} closed raw partitions noted and {len(self.rekeyed)} rekeyed, "
            f"{len(self.dropped)} partitions dropped by retention"
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
    refresh: bool = True,
) -> MaintenanceReport:
    """One round; with `wait`, wait for another maintainer instead of skipping. Without
    `retention` nothing is dropped, without `refresh` nothing rolled up (migrate() does
    neither: a new plant gets its partitions, and a migrated one's backfill is left to the
    datamanager's rounds)."""
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
        raw, *rolled_up = [raw_series(policy), *rollups.rollup_series(policy)]
        report.moved += await partitions.adopt_strays(connection, raw)
        report.made += await partitions.make_ahead(connection, raw, moment)
        # Rolled up before retention drops what the rollups are made of, and before the
        # rollups' own strays are adopted (a backfill's rollups land in their default).
        rolled = await rollups.refresh(connection, now, wait=True) if refresh else None
        if rolled is not None:
            report.rolled_minutes, report.rolled_hours = rolled.minutes, rolled.hours
        for series in rolled_up:
            await partitions.adopt_strays(connection, series)
            report.made += await partitions.make_ahead(connection, series, moment)
            # After the refresh: a closed partition is packed once its minutes are final.
            report.packed += await partitions.pack_closed(connection, series, moment)
        # After the refresh, so the minutes a note covers are final.
        report.noted += await partitions.note_closed(connection, raw, moment)
        report.rekeyed += await partitions.pack_closed(connection, raw, moment)
        if retention:
            for series in (raw, *rolled_up):
                report.dropped += await partitions.drop_expired(connection, series, moment)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", key)
    return report
