"""History queries against a real PostgreSQL schema: recent readings, binning, alarms."""

from __future__ import annotations

import dataclasses

import asyncpg

from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.db.history import History, bucket_width
from controlroom.errors import DatabaseUnavailable
from controlroom.tui import ControlRoom

S = 1_000_000


async def add_readings(db: asyncpg.Connection, name: str, points: list[tuple[int, float]]) -> None:
    sensor_id = await db.fetchval(
        "INSERT INTO sensor (name, unit_type, min_safe_value, max_safe_value) "
        "VALUES ($1, 'C', 0, 10) ON CONFLICT (name) DO UPDATE SET name = excluded.name "
        "RETURNING id",
        name,
    )
    run_id = await db.fetchval(
        "INSERT INTO source_run (source, run) VALUES ($1, $1 || '-run') "
        "ON CONFLICT (run) DO UPDATE SET source = excluded.source RETURNING id",
        name,
    )
    await db.executemany(
        "INSERT INTO sensor_reading (sensor_id, taken_on, value, run_id, seq) "
        "VALUES ($1, to_timestamp($2::float8 / 1e6), $3, $4, $5)",
        [(sensor_id, t, v, run_id, i + 1) for i, (t, v) in enumerate(points)],
    )


async def test_recent_readings_and_known_sensors(
    settings: Settings, db: asyncpg.Connection
) -> None:
    now = now_us()
    await add_readings(db, "probe", [(now - (10 - i) * S, float(i)) for i in range(10)])
    history = History(settings)
    try:
        names = [info.name for info in await history.sensors()]
        assert "probe" in names and "boiler_temp_out" in names  # seed data too
        recent = await history.recent(per_sensor=4, since_us=now - 60 * S)
        assert [v for _, v in recent["probe"]] == [6.0, 7.0, 8.0, 9.0]
    finally:
        await history.close()


async def test_long_windows_are_binned_on_the_server(
    settings: Settings, db: asyncpg.Connection
) -> None:
    now = now_us()
    # 1000 readings over 100 s, asked for at most 10 points.
    await add_readings(
        db, "fast", [(now - 100 * S + i * 100_000, float(i % 7)) for i in range(1000)]
    )
    history = History(settings)
    try:
        buckets = await history.window("fast", now - 100 * S, now, max_points=10)
        assert 10 <= len(buckets) <= 11
        assert sum(b.count for b in buckets) == 1000
        assert all(b.low <= b.mean <= b.high for b in buckets)
        raw = await history.window("fast", now - 2 * S, now, max_points=1000)
        assert all(b.count == 1 for b in raw)
    finally:
        await history.close()


def test_bucket_width_never_below_a_millisecond() -> None:
    assert bucket_width(0, 60 * S, 600).total_seconds() == 0.1
    assert bucket_width(0, 10, 600).total_seconds() == 0.001


async def test_an_unreachable_database_is_one_clear_line(settings: Settings) -> None:
    gone = dataclasses.replace(settings, database_url="postgresql://nobody@127.0.0.1:1/x")
    history = History(gone)
    try:
        await history.sensors()
    except DatabaseUnavailable as error:
        assert "cannot reach the database at postgresql://nobody@127.0.0.1:1/x" in str(error)
        assert history.available is False
    else:
        raise AssertionError("expected DatabaseUnavailable")


async def test_the_control_room_reads_history_from_the_history_url(settings: Settings) -> None:
    """With --history-url (a standby), history queries go there, and only there."""
    standby = "postgresql://nobody@127.0.0.1:1/standby"
    app = ControlRoom(dataclasses.replace(settings, history_url=standby), live=True)
    assert app.history is not None
    try:
        await app.history.open_alarms()
    except DatabaseUnavailable as error:
        assert "127.0.0.1:1/standby" in str(error)
    else:
        raise AssertionError("history was not read from the history URL")
    assert app.settings.database_url == settings.database_url
