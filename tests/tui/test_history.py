"""History queries against a real PostgreSQL schema: recent readings, binning, alarms."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import asyncpg
import pytest

from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.db.history import History, Resolution, bucket_width, pick_resolution
from controlroom.db.rollups import refresh
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


@pytest.mark.parametrize(
    ("span", "period_s", "resolution"),
    [
        (timedelta(hours=1), 0.1, Resolution.RAW),  # 36,000 readings
        (timedelta(hours=2), 0.1, Resolution.MINUTE),  # 72,000 readings: 120 minutes
        (timedelta(hours=24), 1.0, Resolution.MINUTE),
        (timedelta(hours=24), 5.0, Resolution.RAW),
        (timedelta(days=3), 1.0, Resolution.MINUTE),
        (timedelta(days=7), 1.0, Resolution.HOUR),
        (timedelta(days=365), 0.01, Resolution.HOUR),
    ],
)
def test_the_window_picks_raw_readings_or_a_rollup(
    span: timedelta, period_s: float, resolution: Resolution
) -> None:
    assert pick_resolution(span, period_s) is resolution


async def test_long_windows_read_the_rollups_and_agree_with_the_raw_readings(
    settings: Settings, db: asyncpg.Connection
) -> None:
    # A reading every 0.25 s for three hours (43,200), ending two minutes ago.
    end = now_us() - 120 * S
    start = end - 3 * 3600 * S
    await add_readings(
        db, "dense", [(start + i * S // 4, float(i % 97)) for i in range((end - start) * 4 // S)]
    )
    await db.execute("UPDATE sensor SET period_s = 0.25 WHERE name = 'dense'")
    # add_readings writes with plain INSERTs: the rollups learn of it the way a backfill does.
    await db.execute(
        "INSERT INTO rollup_dirty SELECT DISTINCT date_bin('1 minute', taken_on, "
        "timestamptz '2000-01-01 00:00+00') FROM sensor_reading"
    )
    await refresh(db, wait=True)
    history = History(settings)
    try:
        since, until = end - 3 * 3600 * S - 60 * S, end + 60 * S
        by_minute = await history.window("dense", since, until, 200, Resolution.MINUTE)
        # A day of this sensor would be 345,600 readings: the 1-minute rollups are read.
        day = await history.window("dense", end - 86400 * S, end + 60 * S, 600)
        assert all(b.at_us % (3 * 60 * S) == 0 for b in day)  # 24 h / 600: 3 minute bins
        assert sum(b.count for b in day) == 43_200
        raw = await history.window("dense", since, until, 200, Resolution.RAW)
        hourly = await history.window("dense", since, until, 200, Resolution.HOUR)
        assert sum(b.count for b in by_minute) == sum(b.count for b in raw) == 43_200
        assert sum(b.count for b in hourly) == 43_200
        assert len(by_minute) <= 201 and len(raw) <= 201 and len(hourly) == 4
        # The minute source re-bins whole minutes: each bin's figures are the raw readings'.
        assert all(b.at_us % (60 * S) == 0 for b in by_minute)
        assert min(b.low for b in by_minute) == min(b.low for b in raw) == 0.0
        assert max(b.high for b in by_minute) == max(b.high for b in raw) == 96.0
        total_raw = sum(b.mean * b.count for b in raw)
        assert abs(sum(b.mean * b.count for b in by_minute) - total_raw) < 1e-6 * total_raw
    finally:
        await history.close()
