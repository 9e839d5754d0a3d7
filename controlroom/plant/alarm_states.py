"""The ISA-18.2 alarm states and their transitions: one state machine for every process.

An alarm point (a sensor's limit) is in one state at a time. Underneath every state the machine
remembers whether the process is abnormal, because leaving a hold (shelved, suppressed by
design, out of service) must land where the process is now: an alarm still active on return
annunciates again as new (unacknowledged), one that cleared meanwhile is simply normal.

The coordinator drives it; the picture, the TUI and the bridge read an alarm's state through
`state_of`, so they cannot disagree about what a sequence of events means.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from controlroom.plant.alarms import Alarm, HoldKind


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACKED = "active unacknowledged"
    ACKED = "active acknowledged"
    RETURNED_UNACKED = "returned to normal unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed by design"
    OUT_OF_SERVICE = "out of service"

    @property
    def held(self) -> bool:
        """Kept from the operator on purpose: shelved, suppressed or out of service."""
        return self in HOLDS

    @property
    def needs_ack(self) -> bool:
        return self in (AlarmState.UNACKED, AlarmState.RETURNED_UNACKED)


HOLDS = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})


# --- what can happen to an alarm point ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Activate:
    """The process went beyond the limit (after any on-delay)."""


@dataclass(frozen=True, slots=True)
class Return:
    """The process is back inside the limit (after the deadband and any off-delay)."""


@dataclass(frozen=True, slots=True)
class Acknowledge:
    pass


@dataclass(frozen=True, slots=True)
class Shelve:
    """Shelved until `until_us`, or, with None, one-shot: until the alarm clears."""

    until_us: int | None


@dataclass(frozen=True, slots=True)
class Unshelve:
    pass


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes: a timed shelving whose time is up ends."""

    now_us: int


@dataclass(frozen=True, slots=True)
class Suppress:
    """Suppressed by design (the plant's state makes the alarm meaningless)."""


@dataclass(frozen=True, slots=True)
class Unsuppress:
    pass


@dataclass(frozen=True, slots=True)
class RemoveFromService:
    pass


@dataclass(frozen=True, slots=True)
class ReturnToService:
    pass


Event = (
    Activate
    | Return
    | Acknowledge
    | Shelve
    | Unshelve
    | Tick
    | Suppress
    | Unsuppress
    | RemoveFromService
    | ReturnToService
)


@dataclass(frozen=True, slots=True)
class Status:
    """An alarm point's state, whether its process is abnormal, and its shelving's end (None
    while shelved: one-shot)."""

    state: AlarmState = AlarmState.NORMAL
    abnormal: bool = False
    shelved_until: int | None = None


NORMAL = Status()

# What a hold gives way to: only its own ending, or a stronger hold, ends it.
_STRENGTH = {AlarmState.SHELVED: 1, AlarmState.SUPPRESSED: 2, AlarmState.OUT_OF_SERVICE: 3}


def step(status: Status, event: Event) -> Status:
    """The status after `event`. An event that means nothing in a state changes nothing (an
    acknowledgement of an acknowledged alarm, unshelving what is not shelved)."""
    state = status.state
    match event:
        case Activate():
            if state in (AlarmState.NORMAL, AlarmState.RETURNED_UNACKED):
                return Status(AlarmState.UNACKED, abnormal=True)
            return replace(status, abnormal=True)
        case Return():
            if state is AlarmState.UNACKED:
                return Status(AlarmState.RETURNED_UNACKED)
            if state is AlarmState.ACKED:
                return NORMAL
            if state is AlarmState.SHELVED and status.shelved_until is None:
                return NORMAL  # one-shot shelving ends when the alarm clears
            return replace(status, abnormal=False)
        case Acknowledge():
            if state is AlarmState.UNACKED:
                return Status(AlarmState.ACKED, abnormal=True)
            if state is AlarmState.RETURNED_UNACKED:
                return NORMAL
            return status
        case Shelve(until_us=until):
            if state in (AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE):
                return status
            return Status(AlarmState.SHELVED, status.abnormal, until)
        case Unshelve():
            return _released(status) if state is AlarmState.SHELVED else status
        case Tick(now_us=now):
            until = status.shelved_until
            if state is AlarmState.SHELVED and until is not None and now >= until:
                return _released(status)
            return status
        case Suppress():
            return _held(status, AlarmState.SUPPRESSED)
        case Unsuppress():
            return _released(status) if state is AlarmState.SUPPRESSED else status
        case RemoveFromService():
            return _held(status, AlarmState.OUT_OF_SERVICE)
        case ReturnToService():
            return _released(status) if state is AlarmState.OUT_OF_SERVICE else status


def _held(status: Status, hold: AlarmState) -> Status:
    if _STRENGTH.get(status.state, 0) >= _STRENGTH[hold]:
        return status
    return Status(hold, status.abnormal)


def _released(status: Status) -> Status:
    """Out of a hold, to where the process is: an active alarm annunciates again as new."""
    return Status(AlarmState.UNACKED, abnormal=True) if status.abnormal else NORMAL


def state_of(alarm: Alarm, now_us: int | None = None) -> AlarmState:
    """The state an alarm (one activation of an alarm point) is in, from what it records: the
    same state `step` reaches for the events it records (tested in test_alarm_states).

    With `now_us`, a timed shelving whose time is up has ended, whether or not anyone has said
    so yet (the coordinator that shelved it may be gone); without, the record as it stands.
    """
    hold = alarm.hold
    if hold is not None and hold.in_force(now_us):
        if not (hold.kind is HoldKind.SHELVED and hold.until is None and not alarm.active):
            return _HOLD_STATES[hold.kind]  # type: ignore[index]
        return AlarmState.NORMAL  # one-shot shelving: it ended as the alarm cleared
    released = alarm.released_at  # a release, or a timed shelving's end
    acked = alarm.acked_at is not None and (released is None or alarm.acked_at >= released)
    if alarm.cleared_at is None:
        return AlarmState.ACKED if acked else AlarmState.UNACKED
    if released is not None and released >= alarm.cleared_at:
        return AlarmState.NORMAL  # it cleared while held: back to normal as it is released
    return AlarmState.NORMAL if acked else AlarmState.RETURNED_UNACKED


_HOLD_STATES = {
    HoldKind.SHELVED: AlarmState.SHELVED,
    HoldKind.SUPPRESSED: AlarmState.SUPPRESSED,
    HoldKind.OUT_OF_SERVICE: AlarmState.OUT_OF_SERVICE,
}
