"""Reading the alarm definitions (sql/020_alarm_limits.sql) as `AlarmLimit`s, by sensor."""

from __future__ import annotations

import asyncpg

from controlroom.db.history import QUERY_TIMEOUT_S
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority, check_limits

_LIMITS = """
SELECT s.name, l.level, l.value, l.priority, l.deadband, l.on_delay_s, l.off_delay_s
FROM alarm_limit l JOIN sensor s ON s.id = l.sensor_id
ORDER BY s.name, l.level
"""


async def alarm_limits(connection: asyncpg.Connection) -> dict[str, list[AlarmLimit]]:
    """Every sensor's limits, each sensor's checked as a set (a bad row is one clear error)."""
    by_sensor: dict[str, list[AlarmLimit]] = {}
    for row in await connection.fetch(_LIMITS, timeout=QUERY_TIMEOUT_S):
        by_sensor.setdefault(row["name"], []).append(
            AlarmLimit(
                row["name"],
                Level(row["level"]),
                row["value"],
                Priority(row["priority"]),
                row["deadband"],
                row["on_delay_s"],
                row["off_delay_s"],
            )
        )
    for limits in by_sensor.values():
        check_limits(limits)
    return by_sensor
