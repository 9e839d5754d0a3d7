"""What a replay reads: the stored readings of a stretch of time in the order they were taken,
and the alarms that something happened to in it (each sensor's last readings before a moment
are `history.recent_readings` up to it).

Readings come by time across every sensor (the readings' BRIN index on `taken_on` narrows the
scan to the blocks of that stretch, in each day's partition), in columns, so a replay of 1,000
sensors at 60x moves 60,000 readings a second without a Python object per row beyond the
record asyncpg makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from controlroom.clock import us_to_datetime
from controlroom.db.history import _ALARM_COLUMNS, _EPOCH_US, QUERY_TIMEOUT_S, _alarm
from controlroom.plant.alarms import Alarm

_READINGS = f"""
SELECT s.name, {_EPOCH_US.format(col="r.taken_on")} AS at_us, r.value
FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
WHERE r.taken_on > $1 AND r.taken_on <= $2
ORDER BY r.taken_on
"""

# Raised in the stretch, or cleared or acknowledged in it.
_ALARMS = f"""
SELECT {_ALARM_COLUMNS}
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE (a.raised_at > $1 AND a.raised_at <= $2)
   OR (a.cleared_at > $1 AND a.cleared_at <= $2)
   OR (a.acked_at > $1 AND a.acked_at <= $2)
ORDER BY a.raised_at
"""

# Open at the moment: raised before it, and not both cleared and acknowledged before it.
_OPEN_AT = f"""
SELECT {_ALARM_COLUMNS}
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE a.raised_at <= $1
  AND (a.cleared_at IS NULL OR a.cleared_at > $1 OR a.acked_at IS NULL OR a.acked_at > $1)
ORDER BY a.raised_at DESC
LIMIT $2
"""

# Per sensor, through its primary key (sensor_id, taken_on) in each partition: a min() or
# max() over the whole table would read every partition's every block.
_SPAN = f"""
SELECT {_EPOCH_US.format(col="min(first.taken_on)")} AS first_us,
       {_EPOCH_US.format(col="max(last.taken_on)")} AS last_us
FROM sensor s
CROSS JOIN LATERAL (
    SELECT taken_on FROM sensor_reading WHERE sensor_id = s.id ORDER BY taken_on LIMIT 1
) first
CROSS JOIN LATERAL (
    SELECT taken_on FROM sensor_reading WHERE sensor_id = s.id ORDER BY taken_on DESC LIMIT 1
) last
"""


@dataclass(slots=True)
class Readings:
    """Readings of several sensors in the order they were taken, in columns."""

    names: list[str] = field(default_factory=list)
    taken_on: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)


async def readings_between(
    connection: asyncpg.Connection, since_us: int, until_us: int
) -> Readings:
    """Every stored reading taken in (since, until], oldest first."""
    rows = await connection.fetch(
        _READINGS, us_to_datetime(since_us), us_to_datetime(until_us), timeout=QUERY_TIMEOUT_S
    )
    return Readings([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows])


async def alarms_between(
    connection: asyncpg.Connection, since_us: int, until_us: int
) -> list[Alarm]:
    """The alarms raised, cleared or acknowledged in (since, until], as stored now."""
    rows = await connection.fetch(
        _ALARMS, us_to_datetime(since_us), us_to_datetime(until_us), timeout=QUERY_TIMEOUT_S
    )
    return [_alarm(row) for row in rows]


async def alarms_open_at(
    connection: asyncpg.Connection, at_us: int, limit: int = 500
) -> list[Alarm]:
    """The alarms open at `at_us`, as stored now (`open_as_of` makes them as they were)."""
    rows = await connection.fetch(_OPEN_AT, us_to_datetime(at_us), limit, timeout=QUERY_TIMEOUT_S)
    return [_alarm(row) for row in rows]


async def stored_span(connection: asyncpg.Connection) -> tuple[int, int] | None:
    """When the oldest and the newest stored readings were taken; None with none stored."""
    row = await connection.fetchrow(_SPAN, timeout=QUERY_TIMEOUT_S)
    if row is None or row["first_us"] is None:
        return None
    return int(row["first_us"]), int(row["last_us"])
