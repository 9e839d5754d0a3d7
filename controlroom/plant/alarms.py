"""Alarms: what one alarm is, what an operator's hold and comment on it are, and how copies of
one alarm merge.

An alarm is one activation of an alarm point (a sensor's limit, `AlarmLimit`): raised when the
value went beyond the limit (after the on-delay), cleared when it came back inside by the
deadband (after the off-delay), acknowledged by an operator. Its whole state travels every time
it changes, and copies of it meet (several coordinators, a viewer's snapshot crossing an
event): `Alarm.absorb` is the one rule for putting two copies together, whatever the order they
come in.

A hold (shelved, suppressed by design, out of service) belongs to the alarm point and is its
own message (`Hold`), stored and mirrored like alarms; each alarm of the point carries a copy
of the point's latest hold, so whoever reads an alarm reads its state (`alarm_states.state_of`).
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import msgspec

from controlroom.errors import InvalidMessage
from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.sensors import Condition
from controlroom.wire.fields import (
    Finite,
    Ident,
    Micros,
    Text,
    check_id,
    check_sensor_name,
    check_time,
)

_ALARM_NAMESPACE = uuid.UUID("6f1c0a52-3c1e-4d8e-9a57-2b3c8e7d0a14")

MAX_COMMENTS = 100


def alarm_id(sensor: str, level: Level, run: str, seq: int) -> str:
    """An alarm's id, named after the reading that raised it (sensor, level, run, seq).

    Deterministic, so a coordinator that evaluates a redelivered frame from the same state
    raises the very alarm its dead predecessor raised (and perhaps sent): one row, not two.
    """
    return uuid.uuid5(_ALARM_NAMESPACE, f"{sensor}\x00{level.value}\x00{run}\x00{seq}").hex


def silence_id(sensor: str, at: int) -> str:
    """A silence alarm's id: named after the moment its sensor went silent."""
    return uuid.uuid5(_ALARM_NAMESPACE, f"{sensor}\x00SILENT\x00{at}").hex


class HoldKind(StrEnum):
    """The holds of ISA-18.2; the words are `AlarmState`'s."""

    SHELVED = "shelved"
    SUPPRESSED = "suppressed by design"
    OUT_OF_SERVICE = "out of service"


class Hold(msgspec.Struct, frozen=True):
    """An alarm point held from the operator on purpose, or released (`kind` None).

    The newest (`at`) wins wherever two meet. A shelving ends at `until`, or, with None, when
    the alarm clears (one-shot); suppression and out of service last until released.
    """

    sensor: str
    level: Level
    kind: HoldKind | None
    at: Micros
    by: Text
    reason: Text = ""
    until: Micros | None = None

    def __post_init__(self) -> None:
        check_sensor_name(self.sensor)
        check_time(self.at, "at")
        if self.until is not None and self.kind is not HoldKind.SHELVED:
            raise InvalidMessage("only a shelving has an end time ('until')")

    @property
    def point(self) -> tuple[str, Level]:
        return (self.sensor, self.level)

    def newer_than(self, other: Hold | None) -> bool:
        """The later change wins; at the same moment a release beats a hold, then by kind, so
        every process settles on the same one."""
        if other is None:
            return True
        return _hold_order(self) > _hold_order(other)

    def in_force(self, now_us: int | None) -> bool:
        """Still held: not released, and (when `now_us` is given) a timed shelving not over."""
        if self.kind is None:
            return False
        return self.until is None or now_us is None or now_us < self.until


def _hold_order(hold: Hold) -> tuple[int, int, str, str]:
    return (hold.at, hold.kind is None, hold.kind or "", hold.by)


class Comment(msgspec.Struct, frozen=True):
    """A line an operator wrote on an alarm (also what they said when acknowledging it)."""

    at: Micros
    by: Text
    text: Text

    def __post_init__(self) -> None:
        check_time(self.at, "at")
        if not self.text.strip():
            raise InvalidMessage("a comment needs some text")


class Alarm(msgspec.Struct):
    """One activation of an alarm point: raised, perhaps cleared, perhaps acknowledged."""

    id: Ident
    sensor: str
    kind: Condition
    raised_at: Micros
    value: Finite
    limit: Finite
    peak: Finite
    cleared_at: Micros | None = None
    acked_at: Micros | None = None
    acked_by: Text | None = None
    # Older alarms (and messages) have no level: theirs is H or L by their kind.
    level: Level | None = None
    priority: Priority = Priority.HIGH
    hold: Hold | None = None
    comments: list[Comment] = []

    def __post_init__(self) -> None:
        check_id(self.id, "alarm id")
        check_sensor_name(self.sensor)
        if (self.kind is Condition.NORMAL) is not (self.level is Level.SILENT):
            raise InvalidMessage("alarm kind must be HIGH or LOW (NORMAL for silence alone)")
        for what, moment in (
            ("raised_at", self.raised_at),
            ("cleared_at", self.cleared_at),
            ("acked_at", self.acked_at),
        ):
            check_time(moment, what)
        if len(self.comments) > MAX_COMMENTS:
            raise InvalidMessage(f"an alarm carries at most {MAX_COMMENTS} comments")

    @property
    def point(self) -> tuple[str, Level]:
        return (self.sensor, self.alarm_level)

    @property
    def alarm_level(self) -> Level:
        if self.level is not None:
            return self.level
        return Level.H if self.kind is Condition.HIGH else Level.L

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def released_at(self) -> int | None:
        """When the latest hold ended (a release, or a timed shelving's end), if it did."""
        hold = self.hold
        if hold is None:
            return None
        if hold.kind is None:
            return hold.at
        if hold.until is not None:
            return hold.until
        return None

    @property
    def acked(self) -> bool:
        """Acknowledged since it last came back from a hold: an alarm still active when its
        hold ends annunciates again as new."""
        acked, released = self.acked_at, self.released_at
        return acked is not None and (released is None or acked >= released)

    @property
    def open(self) -> bool:
        """Still an operator's business: active, held, or not yet acknowledged (the database's
        open query, `controlroom.db.history`, says the same in SQL)."""
        if self.cleared_at is None:
            return True
        hold = self.hold
        if hold is not None and hold.kind is not None:
            # Held: a one-shot shelving ends with the alarm; a timed one, suppression and out
            # of service keep it until released (a timed shelving by itself, at `until`).
            return hold.until is not None or hold.kind is not HoldKind.SHELVED
        released = self.released_at
        if released is not None and released >= self.cleared_at:
            return False  # cleared while held: nobody was asked to see it
        return not self.acked

    def absorb(self, other: Alarm) -> bool:
        """Take in what another copy of this alarm knows; True if this one changed.

        A field once set stays set (an alarm cleared anywhere is so everywhere, whichever copy
        arrives last), an acknowledgement and a hold keep the latest, comments are the union
        and the peak only ever moves away from the limit, so copies merge to the same state in
        any order.
        """
        before = (self.cleared_at, self.acked_at, self.acked_by, self.peak, self.hold)
        comments = len(self.comments)
        self.cleared_at = self.cleared_at or other.cleared_at
        if other.acked_at is not None and (
            self.acked_at is None
            or (other.acked_at, other.acked_by or "") > (self.acked_at, self.acked_by or "")
        ):
            self.acked_at, self.acked_by = other.acked_at, other.acked_by
        if other.hold is not None and other.hold.newer_than(self.hold):
            self.hold = other.hold
        if other.comments:
            self.add_comments(other.comments)
        if self.kind is Condition.HIGH:
            self.peak = max(self.peak, other.peak)
        else:
            self.peak = min(self.peak, other.peak)
        after = (self.cleared_at, self.acked_at, self.acked_by, self.peak, self.hold)
        return before != after or comments != len(self.comments)

    def add_comments(self, comments: list[Comment]) -> bool:
        """The union with what is known, in time order (the newest kept); True if it grew."""
        known = set(self.comments)
        new = [comment for comment in comments if comment not in known]
        if not new:
            return False
        merged = sorted([*self.comments, *new], key=lambda c: (c.at, c.by, c.text))
        self.comments = merged[-MAX_COMMENTS:]
        return True

    def track(self, value: float) -> None:
        """A reading while active: the peak follows the worst value."""
        if self.kind is Condition.HIGH:
            self.peak = max(self.peak, value)
        else:
            self.peak = min(self.peak, value)
