"""The alarms the ISA-18.2 figures are computed from (`controlroom.plant.alarm_figures`): every
alarm raised in the last 24 hours, and every one still active (a stale alarm is older)."""

from __future__ import annotations

import asyncpg

from controlroom.clock import us_to_datetime
from controlroom.db.history import _EPOCH_US, QUERY_TIMEOUT_S
from controlroom.plant.alarm_figures import (
    FREQUENT_WINDOW_US,
    Activation,
    AlarmFigures,
    alarm_figures,
)

MAX_ACTIVATIONS = 100_000  # a day of a flood ten times the ISA-18.2 limit, and then some

_ACTIVATIONS = f"""
SELECT s.name || ' ' || coalesce(a.level, CASE a.kind WHEN 'HIGH' THEN 'H' ELSE 'L' END) AS point,
       {_EPOCH_US.format(col="a.raised_at")} AS raised_at,
       {_EPOCH_US.format(col="a.cleared_at")} AS cleared_at
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE a.raised_at > $1 OR a.cleared_at IS NULL
ORDER BY a.raised_at DESC
LIMIT $2
"""


async def activations(connection: asyncpg.Connection, since_us: int) -> list[Activation]:
    """Alarms raised after `since_us` and those still active, the newest MAX_ACTIVATIONS."""
    rows = await connection.fetch(
        _ACTIVATIONS, us_to_datetime(since_us), MAX_ACTIVATIONS, timeout=QUERY_TIMEOUT_S
    )
    return [Activation(row["point"], row["raised_at"], row["cleared_at"]) for row in rows]


async def figures(connection: asyncpg.Connection, now_us: int, operators: int = 1) -> AlarmFigures:
    """The figures at `now_us`, from what the database holds."""
    found = await activations(connection, now_us - FREQUENT_WINDOW_US)
    return alarm_figures(found, now_us, operators)
