"""The alarm history and the action log as an operator searches them, from PostgreSQL.

One filter each (`AlarmFilter`, `ActionFilter`) becomes one WHERE clause, used both to show
the rows and to export them as CSV (through the one CSV writer, `controlroom.db.export`), so
the file holds exactly what the screen lists. An alarm's state in SQL is `state_of`'s rule
(controlroom.plant.alarm_states), held to it by a test on every state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import asyncpg
import orjson

from controlroom.clock import us_to_datetime
from controlroom.db.export import copy_csv, iso_time
from controlroom.db.history import _ALARM_COLUMNS, QUERY_TIMEOUT_S, _alarm
from controlroom.plant.alarm_limits import Priority
from controlroom.plant.alarm_states import AlarmState
from controlroom.plant.alarms import Alarm
from controlroom.plant.records import Action

MAX_ROWS = 1000  # the newest this many that match: a screen, not a report

_EPOCH_US = "floor(extract(epoch FROM {col}) * 1000000)::bigint"

# When an alarm's latest hold ended: a release, or a timed shelving's end (`Alarm.released_at`).
_RELEASED = """(CASE WHEN a.hold_at IS NULL THEN NULL WHEN a.hold_kind IS NULL THEN a.hold_at
    ELSE a.hold_until END)"""
_IN_FORCE = "(a.hold_kind IS NOT NULL AND (a.hold_until IS NULL OR now() < a.hold_until))"
_ACKED = f"(a.acked_at IS NOT NULL AND ({_RELEASED} IS NULL OR a.acked_at >= {_RELEASED}))"
# `state_of(alarm, now)` in SQL: an activation's state from what it records (its hold held).
ALARM_STATE_SQL = f"""CASE
    WHEN {_IN_FORCE} AND NOT (a.hold_kind = 'shelved' AND a.hold_until IS NULL
                             AND a.cleared_at IS NOT NULL) THEN a.hold_kind
    WHEN {_IN_FORCE} THEN 'normal'
    WHEN a.cleared_at IS NULL AND {_ACKED} THEN 'active acknowledged'
    WHEN a.cleared_at IS NULL THEN 'active unacknowledged'
    WHEN {_RELEASED} IS NOT NULL AND {_RELEASED} >= a.cleared_at THEN 'normal'
    WHEN {_ACKED} THEN 'normal'
    ELSE 'returned to normal unacknowledged' END"""
ALARM_PRIORITY_SQL = "a.priority"


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms: empty fields do not filter. `sensor` is part of a name, `text` is looked
    for in the sensor, the level, the state, who acknowledged, the hold's reason and the
    comments (case does not matter)."""

    sensor: str = ""
    priority: Priority | None = None
    state: AlarmState | None = None
    since_us: int | None = None
    until_us: int | None = None
    text: str = ""

    def where(self) -> tuple[str, list[object]]:
        """The WHERE clause (alarm `a`, sensor `s`) and its arguments, from $1."""
        clauses: list[str] = []
        args: list[object] = []

        def arg(value: object) -> str:
            args.append(value)
            return f"${len(args)}"

        if self.sensor:
            clauses.append(f"s.name ILIKE {arg(_like(self.sensor))}")
        if self.priority is not None:
            clauses.append(f"{ALARM_PRIORITY_SQL} = {arg(self.priority.value)}")
        if self.state is not None:
            clauses.append(f"({ALARM_STATE_SQL}) = {arg(self.state.value)}")
        if self.since_us is not None:  # overlapping the window: raised before its end ...
            clauses.append(f"(a.cleared_at IS NULL OR a.cleared_at >= {arg(_at(self.since_us))})")
        if self.until_us is not None:  # ... and not cleared before its start
            clauses.append(f"a.raised_at < {arg(_at(self.until_us))}")
        if self.text:
            needle = arg(_like(self.text))
            fields = ["s.name", "a.level", f"({ALARM_STATE_SQL})", "coalesce(a.acked_by, '')"]
            fields += ["coalesce(a.hold_reason, '')"]
            comments = (
                "EXISTS (SELECT 1 FROM alarm_comment c WHERE c.alarm_id = a.id"
                f" AND (c.text ILIKE {needle} OR c.by ILIKE {needle}))"
            )
            matches = [*(f"{f} ILIKE {needle}" for f in fields), comments]
            clauses.append("(" + " OR ".join(matches) + ")")
        return (" AND ".join(clauses) or "true"), args


@dataclass(frozen=True, slots=True)
class ActionFilter:
    """Which actions: `text` is looked for in the operator, the action, the sensor and its
    details (case does not matter)."""

    since_us: int | None = None
    until_us: int | None = None
    text: str = ""

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if self.since_us is not None:
            args.append(_at(self.since_us))
            clauses.append(f"l.at >= ${len(args)}")
        if self.until_us is not None:
            args.append(_at(self.until_us))
            clauses.append(f"l.at < ${len(args)}")
        if self.text:
            args.append(_like(self.text))
            needle = f"${len(args)}"
            fields = ["l.operator", "l.action", "coalesce(l.sensor, '')", "l.detail::text"]
            clauses.append("(" + " OR ".join(f"{f} ILIKE {needle}" for f in fields) + ")")
        return (" AND ".join(clauses) or "true"), args


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _at(us: int) -> object:
    return us_to_datetime(us)


# --- alarms ---------------------------------------------------------------------------------


def _alarms_sql(where: str, limit_arg: str) -> str:
    return f"""SELECT {_ALARM_COLUMNS}
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE {where}
ORDER BY a.raised_at DESC, a.id
LIMIT {limit_arg}"""


async def alarm_history(
    connection: asyncpg.Connection, chosen: AlarmFilter, limit: int = MAX_ROWS
) -> list[Alarm]:
    """The newest `limit` alarms the filter lets through, newest first."""
    where, args = chosen.where()
    query = _alarms_sql(where, f"${len(args) + 1}")
    rows = await connection.fetch(query, *args, limit, timeout=QUERY_TIMEOUT_S)
    return [_alarm(row) for row in rows]


ALARM_CSV_COLUMNS = (
    "raised_at", "sensor", "level", "priority", "value", "limit", "peak", "state",
    "cleared_at", "acked_at", "acked_by", "hold_by", "hold_reason", "comments",
)  # fmt: skip


async def export_alarms(
    connection: asyncpg.Connection, chosen: AlarmFilter, out: BinaryIO, limit: int = MAX_ROWS
) -> int:
    """The alarms `alarm_history` lists, as CSV; returns the rows written."""
    where, args = chosen.where()
    query = f"""SELECT {iso_time("a.raised_at")}, s.name, a.level, {ALARM_PRIORITY_SQL}, a.value,
       a.limit_value, a.peak, {ALARM_STATE_SQL}, {iso_time("a.cleared_at")},
       {iso_time("a.acked_at")}, a.acked_by, a.hold_by, a.hold_reason,
       (SELECT string_agg(c.by || ': ' || c.text, ' | ' ORDER BY c.at)
        FROM alarm_comment c WHERE c.alarm_id = a.id)
FROM alarm a JOIN sensor s ON s.id = a.sensor_id
WHERE {where}
ORDER BY a.raised_at DESC, a.id
LIMIT ${len(args) + 1}"""
    return await copy_csv(connection, ALARM_CSV_COLUMNS, [(query, [*args, limit])], out)


# --- actions --------------------------------------------------------------------------------

_ACTIONS = f"""SELECT {_EPOCH_US.format(col="l.at")} AS at, l.operator, l.action, l.sensor,
       l.detail
FROM action_log l
WHERE {{where}}
ORDER BY l.at DESC, l.id DESC
LIMIT {{limit}}"""

ACTION_CSV_COLUMNS = ("at", "operator", "action", "sensor", "detail")


async def action_log(
    connection: asyncpg.Connection, chosen: ActionFilter, limit: int = MAX_ROWS
) -> list[Action]:
    """The newest `limit` operator actions the filter lets through, newest first."""
    where, args = chosen.where()
    query = _ACTIONS.format(where=where, limit=f"${len(args) + 1}")
    rows = await connection.fetch(query, *args, limit, timeout=QUERY_TIMEOUT_S)
    return [
        Action(row["at"], row["operator"], row["action"], row["sensor"], _detail(row["detail"]))
        for row in rows
    ]


async def export_actions(
    connection: asyncpg.Connection, chosen: ActionFilter, out: BinaryIO, limit: int = MAX_ROWS
) -> int:
    """The actions `action_log` lists, as CSV; returns the rows written."""
    where, args = chosen.where()
    query = f"""SELECT {iso_time("l.at")}, l.operator, l.action, l.sensor, l.detail::text
FROM action_log l
WHERE {where}
ORDER BY l.at DESC, l.id DESC
LIMIT ${len(args) + 1}"""
    return await copy_csv(connection, ACTION_CSV_COLUMNS, [(query, [*args, limit])], out)


def _detail(value: object) -> dict[str, Any]:
    """asyncpg hands jsonb over as text."""
    if isinstance(value, str):
        decoded = orjson.loads(value)
        return decoded if isinstance(decoded, dict) else {"value": decoded}
    return dict(value) if isinstance(value, dict) else {}


def describe_detail(detail: dict[str, Any], skip: Sequence[str] = ()) -> str:
    """An action's details in one line (`key=value`, in order)."""
    return ", ".join(f"{key}={value}" for key, value in detail.items() if key not in skip)
