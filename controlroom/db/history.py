"""History queries for viewers: known sensors, recent readings, down-sampled windows, alarms.

Windows are down-sampled on the server (date_bin with avg/min/max) from the coarsest source
that still draws them well (`pick_resolution`): raw readings while a window holds at most
RAW_ROWS of them, then the 1-minute rollups while it spans at most ROLLUP_ROWS minutes, then the
1-hour rollups; so a chart never reads more than a few thousand rows (a 24 h chart of a 10 Hz
sensor reads 1,440 minutes, not 864,000 readings; a year reads 8,760 hours). Rollups lag the
readings by the datamanager's refresh (10 s and a few seconds' grace); the live readings a
viewer appends cover that. `History` keeps one connection and reopens
it after the database comes back; every failure surfaces as `DatabaseUnavailable` with one
line an operator can read, so a viewer can say "history unavailable" and carry on live.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import asyncpg

from controlroom.clock import us_to_datetime
from controlroom.config import Settings
from controlroom.db.connection import CONNECTION_ERRORS, connect
from controlroom.errors import DatabaseUnavailable
from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.alarms import Alarm, Comment, Hold, HoldKind
from controlroom.plant.sensors import Condition, SensorInfo

log = logging.getLogger(__name__)

T = TypeVar("T")

QUERY_TIMEOUT_S = 10.0
DEFAULT_MAX_POINTS = 600
RAW_ROWS = 50_000  # at most this many raw readings in a window: read them
ROLLUP_ROWS = 5_000  # at most this many minutes: read the 1-minute rollups, else the hours


class Resolution(enum.Enum):
    """Where readings are read from: raw, or a rollup of this width."""

    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"

    @property
    def table(self) -> str:
        return {"raw": "sensor_reading", "1m": "reading_1m", "1h": "reading_1h"}[self.value]

    @property
    def width(self) -> timedelta:
        return {"raw": timedelta(0), "1m": timedelta(minutes=1), "1h": timedelta(hours=1)}[
            self.value
        ]


def pick_resolution(span: timedelta, period_s: float) -> Resolution:
    """The source for a window of `span` of a sensor reading every `period_s` seconds."""
    if span.total_seconds() / max(period_s, 1e-6) <= RAW_ROWS:
        return Resolution.RAW
    if span / Resolution.MINUTE.width <= ROLLUP_ROWS:
        return Resolution.MINUTE
    return Resolution.HOUR


_EPOCH_US = "floor(extract(epoch FROM {col}) * 1000000)::bigint"

_SENSORS = """
SELECT name, serial_no, unit_type, min_safe_value, max_safe_value, period_s
FROM sensor ORDER BY name
"""

# One index range scan per sensor (the primary key), newest first.
_RECENT = f"""
SELECT s.name, r.at_us, r.value
FROM sensor s
CROSS JOIN LATERAL (
    SELECT {_EPOCH_US.format(col="taken_on")} AS at_us, value
    FROM sensor_reading
    WHERE sensor_id = s.id AND taken_on >= $2 AND ($3::timestamptz IS NULL OR taken_on <= $3)
    ORDER BY taken_on DESC
    LIMIT $1
) r
"""

_BINNED = f"""
SELECT {_EPOCH_US.format(col="date_bin($4, taken_on, timestamptz 'epoch')")} AS at_us,
       avg(value) AS mean, min(value) AS low, max(value) AS high, count(*) AS n
FROM sensor_reading
WHERE sensor_id = (SELECT id FROM sensor WHERE name = $1)
  AND taken_on >= $2 AND taken_on < $3
GROUP BY 1
ORDER BY 1
"""

# Rollup buckets re-binned to the chart's width (a multiple of theirs: none is split); the
# bucket the window starts in counts whole.
_ROLLED = f"""
SELECT {_EPOCH_US.format(col="date_bin($4, bucket, timestamptz 'epoch')")} AS at_us,
       sum(total) / sum(n) AS mean, min(low) AS low, max(high) AS high, sum(n) AS n
FROM {{table}}
WHERE sensor_id = (SELECT id FROM sensor WHERE name = $1)
  AND bucket > $2::timestamptz - $5::interval AND bucket < $3
GROUP BY 1
ORDER BY 1
"""

_PERIOD = "SELECT period_s FROM sensor WHERE name = $1"

_ALARM_COLUMNS = f"""
a.id, s.name AS sensor, a.kind, {_EPOCH_US.format(col="a.raised_at")} AS raised_at,
a.value, a.limit_value, a.peak,
{_EPOCH_US.format(col="a.cleared_at")} AS cleared_at,
{_EPOCH_US.format(col="a.acked_at")} AS acked_at, a.acked_by,
a.level, a.priority, a.hold_kind, {_EPOCH_US.format(col="a.hold_at")} AS hold_at, a.hold_by,
a.hold_reason, {_EPOCH_US.format(col="a.hold_until")} AS hold_until,
(SELECT coalesce(array_agg(
     ARRAY[{_EPOCH_US.format(col="c.at")}::text, c.by, c.text] ORDER BY c.at, c.by, c.text), '{{}}')
 FROM alarm_comment c WHERE c.alarm_id = a.id) AS comments
"""

_SENSOR_ALARMS = f"""
SELECT {_ALARM_COLUMNS}
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE s.name = $1 AND a.raised_at < $3 AND (a.cleared_at IS NULL OR a.cleared_at >= $2)
ORDER BY a.raised_at
"""

_OPEN_ALARMS = f"""
SELECT {_ALARM_COLUMNS}
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE a.open
ORDER BY a.raised_at DESC
LIMIT $1
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One down-sampled stretch of a sensor's history: mean, extremes and how many readings."""

    at_us: int
    mean: float
    low: float
    high: float
    count: int


def bucket_width(since_us: int, until_us: int, max_points: int) -> timedelta:
    """The bin that keeps a window under max_points rows; never below a millisecond."""
    span = max(until_us - since_us, 1)
    return timedelta(microseconds=max(1000, -(-span // max(max_points, 1))))


async def known_sensors(connection: asyncpg.Connection) -> list[SensorInfo]:
    rows = await connection.fetch(_SENSORS, timeout=QUERY_TIMEOUT_S)
    return [
        SensorInfo(
            name=row["name"],
            serial_no=row["serial_no"],
            unit=row["unit_type"],
            safe_min=row["min_safe_value"],
            safe_max=row["max_safe_value"],
            period_s=row["period_s"],
        )
        for row in rows
    ]


async def recent_readings(
    connection: asyncpg.Connection, per_sensor: int, since_us: int, until_us: int | None = None
) -> dict[str, list[tuple[int, float]]]:
    """Each sensor's last `per_sensor` readings since `since_us` (and up to `until_us`, for a
    replay), oldest first."""
    until = None if until_us is None else us_to_datetime(until_us)
    rows = await connection.fetch(
        _RECENT, per_sensor, us_to_datetime(since_us), until, timeout=QUERY_TIMEOUT_S
    )
    found: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        found.setdefault(row["name"], []).append((row["at_us"], row["value"]))
    for points in found.values():
        points.reverse()
    return found


async def sensor_history(
    connection: asyncpg.Connection,
    sensor: str,
    since_us: int,
    until_us: int,
    max_points: int = DEFAULT_MAX_POINTS,
    resolution: Resolution | None = None,
) -> list[Bucket]:
    """A sensor's readings in [since, until), binned so at most about max_points come back,
    from the source `pick_resolution` names (or the one given)."""
    width = bucket_width(since_us, until_us, max_points)
    if resolution is None:
        period = await connection.fetchval(_PERIOD, sensor, timeout=QUERY_TIMEOUT_S)
        span = timedelta(microseconds=until_us - since_us)
        resolution = pick_resolution(span, period or 1.0)
    args: list[object] = [sensor, us_to_datetime(since_us), us_to_datetime(until_us)]
    if resolution is Resolution.RAW:
        query = _BINNED
        args.append(width)
    else:
        query = _ROLLED.format(table=resolution.table)
        width = max(resolution.width, -(-width // resolution.width) * resolution.width)
        args += [width, resolution.width]
    rows = await connection.fetch(query, *args, timeout=QUERY_TIMEOUT_S)
    return [Bucket(row["at_us"], row["mean"], row["low"], row["high"], row["n"]) for row in rows]


async def sensor_alarms(
    connection: asyncpg.Connection, sensor: str, since_us: int, until_us: int
) -> list[Alarm]:
    """Alarms of one sensor that overlap [since, until)."""
    rows = await connection.fetch(
        _SENSOR_ALARMS,
        sensor,
        us_to_datetime(since_us),
        us_to_datetime(until_us),
        timeout=QUERY_TIMEOUT_S,
    )
    return [_alarm(row) for row in rows]


async def open_alarms(connection: asyncpg.Connection, limit: int = 500) -> list[Alarm]:
    """Alarms still active or not yet acknowledged, newest first."""
    rows = await connection.fetch(_OPEN_ALARMS, limit, timeout=QUERY_TIMEOUT_S)
    return [_alarm(row) for row in rows]


_HOLDS = f"""
SELECT s.name AS sensor, h.level, h.kind, {_EPOCH_US.format(col="h.at")} AS at, h.by, h.reason,
       {_EPOCH_US.format(col="h.until")} AS until
FROM alarm_hold h JOIN sensor s ON s.id = h.sensor_id
ORDER BY s.name, h.level
"""


async def alarm_holds(connection: asyncpg.Connection) -> list[Hold]:
    """Every alarm point's latest hold or release, as stored."""
    rows = await connection.fetch(_HOLDS, timeout=QUERY_TIMEOUT_S)
    return [
        Hold(
            row["sensor"],
            Level(row["level"]),
            None if row["kind"] is None else HoldKind(row["kind"]),
            row["at"],
            row["by"],
            row["reason"],
            row["until"],
        )
        for row in rows
    ]


def _alarm(row: asyncpg.Record) -> Alarm:
    hold = None
    if row["hold_at"] is not None:
        hold = Hold(
            row["sensor"],
            Level(row["level"]),
            None if row["hold_kind"] is None else HoldKind(row["hold_kind"]),
            row["hold_at"],
            row["hold_by"] or "",
            row["hold_reason"] or "",
            row["hold_until"],
        )
    return Alarm(
        id=row["id"],
        sensor=row["sensor"],
        kind=Condition(row["kind"]),
        raised_at=row["raised_at"],
        value=row["value"],
        limit=row["limit_value"],
        peak=row["peak"],
        cleared_at=row["cleared_at"],
        acked_at=row["acked_at"],
        acked_by=row["acked_by"],
        level=None if row["level"] is None else Level(row["level"]),
        priority=Priority(row["priority"]),
        hold=hold,
        comments=[Comment(int(at), by, text) for at, by, text in row["comments"]],
    )


class History:
    """One lazily opened connection for a viewer's history queries, reopened after outages."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self.error: str | None = None
        self.available: bool | None = None  # None until the first attempt

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                await self._connection.close(timeout=2)
            self._connection = None

    async def check(self) -> bool:
        """Reach the database (a cheap round trip); True if it answers."""
        try:
            await self.run(lambda connection: connection.fetchval("SELECT 1"))
        except DatabaseUnavailable:
            return False
        return True

    async def sensors(self) -> list[SensorInfo]:
        return await self.run(known_sensors)

    async def recent(self, per_sensor: int, since_us: int) -> dict[str, list[tuple[int, float]]]:
        return await self.run(lambda c: recent_readings(c, per_sensor, since_us))

    async def window(
        self,
        sensor: str,
        since_us: int,
        until_us: int,
        max_points: int = DEFAULT_MAX_POINTS,
        resolution: Resolution | None = None,
    ) -> list[Bucket]:
        return await self.run(
            lambda c: sensor_history(c, sensor, since_us, until_us, max_points, resolution)
        )

    async def alarms(self, sensor: str, since_us: int, until_us: int) -> list[Alarm]:
        return await self.run(lambda c: sensor_alarms(c, sensor, since_us, until_us))

    async def open_alarms(self) -> list[Alarm]:
        return await self.run(open_alarms)

    async def run(self, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run one query, connecting first if needed; failures become DatabaseUnavailable."""
        async with self._lock:
            try:
                if self._connection is None or self._connection.is_closed():
                    self._connection = await connect(self._settings)
                result = await query(self._connection)
            except DatabaseUnavailable as error:
                self._fail(str(error))
                raise
            except (*CONNECTION_ERRORS, asyncpg.PostgresError) as error:
                await self._drop()
                text = str(error).splitlines()[0] if str(error) else type(error).__name__
                message = f"database at {self._settings.database_display} failed: {text}"
                self._fail(message)
                raise DatabaseUnavailable(message) from None
            self.available, self.error = True, None
            return result

    def _fail(self, message: str) -> None:
        if self.available is not False:
            log.warning("%s", message)
        self.available, self.error = False, message

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()
