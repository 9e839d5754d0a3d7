"""The alarm definitions in PostgreSQL (sql/020_alarm_limits.sql, sql/021_alarm_core.sql): read
back as checked `AlarmLimit`s, read as the changes a coordinator takes over, and a change
stored (by the datamanager, which writes everything a coordinator decides)."""

from __future__ import annotations

import asyncpg

from controlroom.db.history import QUERY_TIMEOUT_S
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority, check_limits
from controlroom.wire.envelopes import LimitsChange

_LIMITS = """
SELECT s.name, l.level, l.value, l.priority, l.deadband, l.on_delay_s, l.off_delay_s
FROM alarm_limit l JOIN sensor s ON s.id = l.sensor_id
ORDER BY s.name, l.level
"""
_CHANGES = """
SELECT s.name, floor(extract(epoch FROM greatest(c.at, m.at)) * 1000000)::bigint AS at,
       coalesce(c.by, '') AS by, coalesce(c.reason, '') AS reason
FROM sensor s
LEFT JOIN alarm_limit_change c ON c.sensor_id = s.id
LEFT JOIN (SELECT sensor_id, max(updated_at) AS at FROM alarm_limit GROUP BY sensor_id) m
       ON m.sensor_id = s.id
WHERE c.sensor_id IS NOT NULL OR m.sensor_id IS NOT NULL
"""
# Stored only if newer than what is stored (two changes may be stored in either order).
_NEWER = """
SELECT coalesce(greatest(
    (SELECT at FROM alarm_limit_change WHERE sensor_id = $1),
    (SELECT max(updated_at) FROM alarm_limit WHERE sensor_id = $1)
) < timestamptz 'epoch' + $2::int8 * interval '1 microsecond', true)
"""
_CHANGE = """
INSERT INTO alarm_limit_change (sensor_id, at, by, reason)
VALUES ($1, timestamptz 'epoch' + $2::int8 * interval '1 microsecond', $3, $4)
ON CONFLICT (sensor_id) DO UPDATE SET at = excluded.at, by = excluded.by, reason = excluded.reason
"""
_INSERT = """
INSERT INTO alarm_limit (sensor_id, level, value, priority, deadband, on_delay_s, off_delay_s,
                         updated_at)
SELECT $1, l.level, l.value, l.priority, l.deadband, l.on_delay, l.off_delay,
       timestamptz 'epoch' + $2::int8 * interval '1 microsecond'
FROM unnest($3::text[], $4::float8[], $5::text[], $6::float8[], $7::float8[], $8::float8[])
     AS l (level, value, priority, deadband, on_delay, off_delay)
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


async def stored_definitions(connection: asyncpg.Connection) -> list[LimitsChange]:
    """Each sensor's stored definitions as the latest change of them (what a starting
    coordinator takes over); a sensor absent here gets its safe range's."""
    limits = await alarm_limits(connection)
    return [
        LimitsChange(row["name"], limits.get(row["name"], []), row["by"], row["at"], row["reason"])
        for row in await connection.fetch(_CHANGES, timeout=QUERY_TIMEOUT_S)
    ]


async def store_definitions(
    connection: asyncpg.Connection, sensor_id: int, change: LimitsChange
) -> bool:
    """Replace a sensor's definitions with `change`, unless a newer change is stored."""
    # Two writers storing changes of one sensor take turns (the sensor's row is the lock).
    await connection.execute("SELECT 1 FROM sensor WHERE id = $1 FOR UPDATE", sensor_id)
    if not await connection.fetchval(_NEWER, sensor_id, change.at):
        return False
    limits = change.limits
    await connection.execute("DELETE FROM alarm_limit WHERE sensor_id = $1", sensor_id)
    await connection.execute(
        _INSERT,
        sensor_id,
        change.at,
        [limit.level.value for limit in limits],
        [limit.value for limit in limits],
        [limit.priority.value for limit in limits],
        [limit.deadband for limit in limits],
        [limit.on_delay_s for limit in limits],
        [limit.off_delay_s for limit in limits],
    )
    await connection.execute(_CHANGE, sensor_id, change.at, change.by, change.reason)
    return True
