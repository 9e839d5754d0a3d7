"""The alarm definitions in PostgreSQL: seeded from the reference plant's safe ranges, read back
as checked limits, and guarded by the table's own checks."""

from __future__ import annotations

import asyncpg
import pytest

from controlroom.db.alarm_limits import alarm_limits
from controlroom.errors import ConfigError
from controlroom.plant.alarm_limits import LEVELS, Level, Priority
from controlroom.simulation.presets import REFERENCE_PLANT


async def test_every_reference_sensor_has_four_limits_from_its_safe_range(
    db: asyncpg.Connection,
) -> None:
    limits = await alarm_limits(db)
    assert set(limits) == {preset.info.name for preset in REFERENCE_PLANT}
    for preset in REFERENCE_PLANT:
        info = preset.info
        assert info.safe_min is not None and info.safe_max is not None
        by_level = {limit.level: limit for limit in limits[info.name]}
        assert set(by_level) == set(LEVELS)
        assert (by_level[Level.L].value, by_level[Level.H].value) == (info.safe_min, info.safe_max)
        assert by_level[Level.H].priority is Priority.HIGH
        assert by_level[Level.HH].priority is Priority.CRITICAL
        span = info.safe_max - info.safe_min
        assert by_level[Level.H].deadband == pytest.approx(span * 0.02)
        assert by_level[Level.HH].value == pytest.approx(info.safe_max + span * 0.1)


async def test_the_table_refuses_what_no_limit_can_be(db: asyncpg.Connection) -> None:
    sensor = await db.fetchval("SELECT id FROM sensor WHERE name = 'boiler_temp_out'")
    await db.execute("DELETE FROM alarm_limit WHERE sensor_id = $1", sensor)
    insert = "INSERT INTO alarm_limit (sensor_id, level, value, priority) VALUES ($1, $2, $3, $4)"
    bad = [("H", 1.0, "urgent"), ("X", 1.0, "low"), ("H", float("inf"), "low")]
    for level, value, priority in bad:
        with pytest.raises(asyncpg.CheckViolationError):
            await db.execute(insert, sensor, level, value, priority)


async def test_limits_out_of_order_in_the_table_are_one_clear_error(
    db: asyncpg.Connection,
) -> None:
    await db.execute(
        "UPDATE alarm_limit SET value = 700 FROM sensor s "
        "WHERE s.id = sensor_id AND s.name = 'boiler_temp_out' AND level = 'H'"
    )
    with pytest.raises(ConfigError, match="boiler_temp_out: H \\(700\\) must be below HH"):
        await alarm_limits(db)
