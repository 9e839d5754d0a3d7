"""What happens inside a coordinator: the events its handlers subscribe to.

Inbound messages become events; handlers react and may raise further events. No handler knows
another; each writes what it wants sent into the round's Outbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from controlroom.messages import (
    AckRequest,
    Alarm,
    Announce,
    Frame,
    Goodbye,
    Liveness,
    SourceState,
)


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """A source's frame: `frame` as received (to store), `fresh` without readings seen before.

    `body` is the message the frame was decoded from (and validated): where a frame goes on
    unchanged, its bytes are sent again instead of encoding it anew.
    """

    frame: Frame
    fresh: Frame
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class SourceAnnounced:
    announce: Announce


@dataclass(frozen=True, slots=True)
class SourceLeft:
    goodbye: Goodbye


@dataclass(frozen=True, slots=True)
class ClockTicked:
    now_us: int


@dataclass(frozen=True, slots=True)
class AckRequested:
    request: AckRequest


@dataclass(frozen=True, slots=True)
class AlarmObserved:
    """Another coordinator's alarm, seen on the events exchange."""

    alarm: Alarm


@dataclass(frozen=True, slots=True)
class LivenessChanged:
    sensor: str
    liveness: Liveness
    at: int


@dataclass(frozen=True, slots=True)
class AlarmChanged:
    alarm: Alarm
    change: str  # "raised", "cleared" or "acked"


@dataclass(frozen=True, slots=True)
class SourceUpdated:
    """A sensor's metadata changed (it announced); `state` is what viewers should now show."""

    state: SourceState


Event = (
    FrameReceived
    | SourceAnnounced
    | SourceLeft
    | ClockTicked
    | AckRequested
    | AlarmObserved
    | LivenessChanged
    | AlarmChanged
    | SourceUpdated
)
