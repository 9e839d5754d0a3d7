"""A plant's history settings, kept in its schema (history_policy) so every maintainer agrees.

The datamanager's scheduled maintenance and an operator's `controlroom-worker db maintain` read
the same row; the flags of `db maintain` change it for good, not for one run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

import asyncpg

from controlroom.errors import ConfigError

MIN_PARTITION = timedelta(minutes=1)
# More partitions made ahead than this is a mistake (a 1-minute partition a year ahead).
MAX_PREMADE = 1000


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    partition_interval: timedelta = timedelta(days=1)
    premake: timedelta = timedelta(days=3)  # how far ahead of now partitions exist
    raw_retention: timedelta = timedelta(days=30)
    minute_retention: timedelta = timedelta(days=365)  # the 1-minute rollups
    hour_retention: timedelta = timedelta(days=3650)  # the 1-hour rollups
    raw_horizon: datetime | None = None  # readings before it were dropped by retention

    def __post_init__(self) -> None:
        if self.partition_interval < MIN_PARTITION:
            raise ConfigError("the partition interval must be at least 1 minute")
        if (86400 * 1_000_000) % (self.partition_interval // timedelta(microseconds=1)) and (
            self.partition_interval % timedelta(days=1)
        ):
            raise ConfigError(
                "the partition interval must divide a day (15m, 1h, 6h) or be whole days"
            )
        if self.premake < self.partition_interval:
            raise ConfigError("partitions must be made at least one partition interval ahead")
        if self.premake / self.partition_interval > MAX_PREMADE:
            raise ConfigError(
                f"making partitions {self.premake} ahead at {self.partition_interval} each "
                f"would make more than {MAX_PREMADE}; make them fewer or wider"
            )
        if self.raw_retention < self.partition_interval:
            raise ConfigError("raw readings must be kept at least one partition interval")
        # A rollup is recomputed from what is kept below it: it must outlive that.
        if self.minute_retention < self.raw_retention:
            raise ConfigError("1-minute rollups must be kept at least as long as raw readings")
        if self.hour_retention < self.minute_retention:
            raise ConfigError("1-hour rollups must be kept at least as long as 1-minute ones")


_SETTINGS = ("partition_interval", "premake", "raw_retention", "minute_retention", "hour_retention")


async def load_policy(connection: asyncpg.Connection) -> HistoryPolicy:
    row = await connection.fetchrow(
        f"SELECT {', '.join(f.name for f in fields(HistoryPolicy))} FROM history_policy"
    )
    return HistoryPolicy(**dict(row))


async def change_policy(connection: asyncpg.Connection, **changes: timedelta) -> HistoryPolicy:
    """Store new settings (checked together first); returns the policy now in force."""
    unknown = set(changes) - set(_SETTINGS)
    if unknown:
        raise ValueError(f"not a history setting: {', '.join(sorted(unknown))}")
    policy: HistoryPolicy = replace(await load_policy(connection), **changes)  # type: ignore[arg-type]
    if changes:
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(_SETTINGS, 1))
        await connection.execute(
            f"UPDATE history_policy SET {assignments}",
            *(getattr(policy, name) for name in _SETTINGS),
        )
    return policy


async def advance_horizon(connection: asyncpg.Connection, horizon: datetime) -> None:
    await connection.execute(
        "UPDATE history_policy SET raw_horizon = greatest(raw_horizon, $1)", horizon
    )
