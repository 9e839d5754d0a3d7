"""Storing persist batches: readings by COPY, everything idempotent.

A batch redelivered after a crash writes nothing twice: readings are keyed by
(sensor_id, taken_on), alarms by their id (merged, whatever the order), sensors by name.

Readings are copied straight into sensor_reading inside a savepoint, in the binary COPY format
(controlroom.db.copy): the common case, and half PostgreSQL's work per row of the alternative.
Only when that meets a reading stored before (a redelivery) does the batch go through a staging
table and INSERT ... ON CONFLICT DO NOTHING. Either way the transaction notes the minutes its
readings fall in, whose rollups are then recomputed (controlroom.db.rollups).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg
import numpy as np
import numpy.typing as npt
import orjson

from controlroom.db.alarm_limits import store_definitions
from controlroom.db.copy import COLUMNS, ReadingRows
from controlroom.db.rollups import mark_dirty, touched_minutes
from controlroom.plant.alarms import Alarm, Hold
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.records import Action, RunReport
from controlroom.plant.sensors import SensorInfo
from controlroom.wire.envelopes import PersistBatch

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS reading_staging (LIKE sensor_reading) ON COMMIT DELETE ROWS
"""
_FROM_STAGING = """
INSERT INTO sensor_reading SELECT * FROM reading_staging ON CONFLICT DO NOTHING
"""
_UPSERT_SENSORS = """
INSERT INTO sensor (name, serial_no, unit_type, min_safe_value, max_safe_value, period_s)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[])
ON CONFLICT (name) DO UPDATE SET
    serial_no = excluded.serial_no, unit_type = excluded.unit_type,
    min_safe_value = excluded.min_safe_value, max_safe_value = excluded.max_safe_value,
    period_s = excluded.period_s, updated_at = now()
WHERE (sensor.serial_no, sensor.unit_type, sensor.min_safe_value, sensor.max_safe_value,
       sensor.period_s)
      IS DISTINCT FROM
      (excluded.serial_no, excluded.unit_type, excluded.min_safe_value, excluded.max_safe_value,
       excluded.period_s)
"""


def _us(parameter: int) -> str:
    """A parameter of integer microseconds as a timestamptz, exactly (NULL stays NULL)."""
    return f"(timestamptz 'epoch' + ${parameter}::int8 * interval '1 microsecond')"


_NEWER_HOLD = "(excluded.hold_at > alarm.hold_at OR alarm.hold_at IS NULL)"
# The merge rule of Alarm.absorb: a time once set stays set, the latest acknowledgement and
# the newest hold win, the peak moves away from the limit.
_UPSERT_ALARM = f"""
INSERT INTO alarm (id, sensor_id, kind, raised_at, value, limit_value, peak, cleared_at,
                   acked_at, acked_by, level, priority, hold_kind, hold_at, hold_by,
                   hold_reason, hold_until)
VALUES ($1, $2, $3, {_us(4)}, $5, $6, $7, {_us(8)}, {_us(9)}, $10, $11, $12, $13, {_us(14)},
        $15, $16, {_us(17)})
ON CONFLICT (id) DO UPDATE SET
    peak = CASE WHEN alarm.kind = 'LOW' THEN least(alarm.peak, excluded.peak)
                ELSE greatest(alarm.peak, excluded.peak) END,
    cleared_at = coalesce(alarm.cleared_at, excluded.cleared_at),
    acked_at = greatest(alarm.acked_at, excluded.acked_at),
    acked_by = CASE WHEN excluded.acked_at > alarm.acked_at OR alarm.acked_at IS NULL
                    THEN coalesce(excluded.acked_by, alarm.acked_by) ELSE alarm.acked_by END,
    hold_kind = CASE WHEN {_NEWER_HOLD} THEN excluded.hold_kind ELSE alarm.hold_kind END,
    hold_by = CASE WHEN {_NEWER_HOLD} THEN excluded.hold_by ELSE alarm.hold_by END,
    hold_reason = CASE WHEN {_NEWER_HOLD} THEN excluded.hold_reason ELSE alarm.hold_reason END,
    hold_until = CASE WHEN {_NEWER_HOLD} THEN excluded.hold_until ELSE alarm.hold_until END,
    hold_at = CASE WHEN {_NEWER_HOLD} THEN excluded.hold_at ELSE alarm.hold_at END
"""
_INSERT_COMMENTS = """
INSERT INTO alarm_comment (alarm_id, at, by, text)
SELECT $1, timestamptz 'epoch' + c.at * interval '1 microsecond', c.by, c.text
FROM unnest($2::int8[], $3::text[], $4::text[]) AS c (at, by, text)
ON CONFLICT DO NOTHING
"""
_UPSERT_HOLD = f"""
INSERT INTO alarm_hold (sensor_id, level, kind, at, by, reason, until)
VALUES ($1, $2, $3, {_us(4)}, $5, $6, {_us(7)})
ON CONFLICT (sensor_id, level) DO UPDATE SET
    kind = excluded.kind, at = excluded.at, by = excluded.by, reason = excluded.reason,
    until = excluded.until
WHERE excluded.at > alarm_hold.at
"""
_UPSERT_REPORT = """
INSERT INTO run_report (sensor_id, run_id, last_seq, dropped, ended_at)
VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1e6))
ON CONFLICT (sensor_id, run_id) DO UPDATE SET
    last_seq = greatest(run_report.last_seq, excluded.last_seq),
    dropped = greatest(run_report.dropped, excluded.dropped),
    ended_at = greatest(run_report.ended_at, excluded.ended_at)
"""
_INSERT_ACTION = """
INSERT INTO action_log (at, operator, action, sensor, detail)
VALUES (timestamptz 'epoch' + $1::int8 * interval '1 microsecond', $2, $3, $4, $5::jsonb)
ON CONFLICT (at, operator, action) DO NOTHING
"""


class BatchWriter:
    """Writes persist batches over one connection; caches the ids of sensors and runs."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._sensor_ids: dict[str, int] = {}
        self._run_ids: dict[str, int] = {}
        # By source: the (one-tick) layout of its latest frame and its sensors' ids. A source's
        # frames name the same sensors tick after tick (the very same layout, see Layout).
        self._layouts: dict[str, tuple[Layout, npt.NDArray[np.int32]]] = {}
        self._rollups = True

    async def prepare(self) -> None:
        """Create the staging table for redeliveries (one per connection)."""
        await self._connection.execute(_STAGING)
        # A schema from before the rollups (a migration's own test) has nothing to mark.
        self._rollups = await self._connection.fetchval(
            "SELECT to_regclass('rollup_dirty') IS NOT NULL"
        )

    async def write(self, batches: Sequence[PersistBatch]) -> int:
        """Store the batches in one transaction; returns the number of readings offered."""
        connection = self._connection
        readings = 0
        async with connection.transaction():
            announced = [sensor for batch in batches for sensor in batch.sensors]
            if announced:
                await self._upsert_sensors(announced)
            frames = [frame for batch in batches for frame in batch.frames if len(frame)]
            if frames:
                readings = await self._write_frames(frames)
            for batch in batches:
                for change in batch.limits:
                    await store_definitions(
                        connection, await self._sensor_id(change.sensor), change
                    )
                for hold in batch.holds:
                    await self._upsert_hold(hold)
                for alarm in batch.alarms:
                    await self._upsert_alarm(alarm)
                for report in batch.runs:
                    await self._upsert_report(report)
                for action in batch.actions:
                    await self._log_action(action)
        return readings

    async def _write_frames(self, frames: Sequence[Frame]) -> int:
        rows = ReadingRows(sum(map(len, frames)))
        for frame in frames:
            rows.add(frame, await self._ids_of(frame), await self._run_id(frame.source, frame.run))
        # A memoryview: asyncpg would take bytes for a file name.
        payload = memoryview(rows.payload())
        connection = self._connection
        try:
            async with connection.transaction():  # a savepoint: a repeat undoes only the COPY
                await connection.copy_to_table(
                    "sensor_reading", source=payload, columns=COLUMNS, format="binary"
                )
        except asyncpg.UniqueViolationError:
            # Some readings are stored already (a redelivery): store the others, once.
            await connection.copy_to_table(
                "reading_staging", source=payload, columns=COLUMNS, format="binary"
            )
            await connection.execute(_FROM_STAGING)
        if self._rollups:
            await mark_dirty(connection, touched_minutes(rows.taken_on()))
        return rows.count

    async def _ids_of(self, frame: Frame) -> npt.NDArray[np.int32]:
        """The ids of the frame's sensors, in its order."""
        known = self._layouts.get(frame.source)
        if known is not None:
            ticks = frame.ticks_of(known[0])
            if ticks:
                return known[1] if ticks == 1 else np.tile(known[1], ticks)
        tick = frame.layout.tick
        await self._resolve_sensors(set(tick.names))
        ids = np.array([self._sensor_ids[name] for name in tick.names], dtype=np.int32)
        self._layouts[frame.source] = (tick, ids)
        return ids if frame.layout is tick else np.tile(ids, frame.layout.ticks)

    async def _resolve_sensors(self, names: Iterable[str]) -> None:
        """Ids for sensor names; a name never announced gets a bare row of its own."""
        # Sorted, so two writers inserting the same new names lock them in the same order.
        missing = sorted(name for name in names if name not in self._sensor_ids)
        if not missing:
            return
        await self._connection.execute(
            "INSERT INTO sensor (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING",
            missing,
        )
        rows = await self._connection.fetch(
            "SELECT id, name FROM sensor WHERE name = any($1::text[])", missing
        )
        self._sensor_ids.update((row["name"], row["id"]) for row in rows)

    async def _sensor_id(self, name: str) -> int:
        if name not in self._sensor_ids:
            await self._resolve_sensors([name])
        return self._sensor_ids[name]

    async def _run_id(self, source: str, run: str) -> int:
        run_id = self._run_ids.get(run)
        if run_id is None:
            run_id = await self._connection.fetchval(
                """INSERT INTO source_run (source, run) VALUES ($1, $2)
                   ON CONFLICT (run) DO UPDATE SET source = source_run.source
                   RETURNING id""",
                source,
                run,
            )
            self._run_ids[run] = run_id
        return run_id

    async def _upsert_sensors(self, sensors: Sequence[SensorInfo]) -> None:
        """All announced sensors in one statement: a gateway announces thousands at once.

        The latest announcement of a name wins, as if each were upserted in turn; sorted by
        name, so two writers lock the same rows in the same order.
        """
        latest = {sensor.name: sensor for sensor in sensors}
        ordered = [latest[name] for name in sorted(latest)]
        await self._connection.execute(
            _UPSERT_SENSORS,
            [s.name for s in ordered],
            [s.serial_no for s in ordered],
            [s.unit for s in ordered],
            [s.safe_min for s in ordered],
            [s.safe_max for s in ordered],
            [s.period_s for s in ordered],
        )

    async def _upsert_alarm(self, alarm: Alarm) -> None:
        hold = alarm.hold
        await self._connection.execute(
            _UPSERT_ALARM,
            alarm.id,
            await self._sensor_id(alarm.sensor),
            alarm.kind.value,
            alarm.raised_at,
            alarm.value,
            alarm.limit,
            alarm.peak,
            alarm.cleared_at,
            alarm.acked_at,
            alarm.acked_by,
            alarm.alarm_level.value,
            alarm.priority.value,
            None if hold is None or hold.kind is None else hold.kind.value,
            None if hold is None else hold.at,
            None if hold is None else hold.by,
            None if hold is None else hold.reason,
            None if hold is None else hold.until,
        )
        if alarm.comments:
            await self._connection.execute(
                _INSERT_COMMENTS,
                alarm.id,
                [comment.at for comment in alarm.comments],
                [comment.by for comment in alarm.comments],
                [comment.text for comment in alarm.comments],
            )

    async def _upsert_hold(self, hold: Hold) -> None:
        await self._connection.execute(
            _UPSERT_HOLD,
            await self._sensor_id(hold.sensor),
            hold.level.value,
            None if hold.kind is None else hold.kind.value,
            hold.at,
            hold.by,
            hold.reason,
            hold.until,
        )

    async def _upsert_report(self, report: RunReport) -> None:
        await self._connection.execute(
            _UPSERT_REPORT,
            await self._sensor_id(report.sensor),
            await self._run_id(report.source, report.run),
            report.last_seq,
            report.dropped,
            report.ended_at,
        )

    async def _log_action(self, action: Action) -> None:
        await self._connection.execute(
            _INSERT_ACTION,
            action.at,
            action.operator,
            action.action,
            action.sensor,
            orjson.dumps(action.detail).decode(),
        )
