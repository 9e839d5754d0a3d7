"""What happens inside a coordinator: the events its handlers subscribe to.

Inbound messages become events; handlers react and may raise further events. No handler knows
another; what they want sent, each keeps until the round takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from controlroom.plant.alarms import Alarm, Hold
from controlroom.plant.readings import Frame
from controlroom.plant.records import Action
from controlroom.plant.sensors import Liveness, SensorState
from controlroom.wire.envelopes import (
    AckRequest,
    Announce,
    CommentRequest,
    Goodbye,
    HoldRequest,
    LimitsChange,
    LimitsRequest,
    TwinWarning,
)


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """A source's frame: `frame` as received (to store), `fresh` without readings seen before."""

    frame: Frame
    fresh: Frame


@dataclass(frozen=True, slots=True)
class SourceAnnounced:
    announce: Announce


@dataclass(frozen=True, slots=True)
class SourceLeft:
    goodbye: Goodbye


@dataclass(frozen=True, slots=True)
class SourceHandedOver:
    """This coordinator stopped consuming a source: another coordinator has it now."""

    source: str


@dataclass(frozen=True, slots=True)
class ClockTicked:
    now_us: int


@dataclass(frozen=True, slots=True)
class AckRequested:
    request: AckRequest


@dataclass(frozen=True, slots=True)
class CommentRequested:
    request: CommentRequest


@dataclass(frozen=True, slots=True)
class HoldRequested:
    request: HoldRequest


@dataclass(frozen=True, slots=True)
class LimitsRequested:
    request: LimitsRequest


@dataclass(frozen=True, slots=True)
class LimitsObserved:
    """A sensor's definitions as stored (taken over) or as another coordinator applied them."""

    change: LimitsChange


@dataclass(frozen=True, slots=True)
class HoldObserved:
    """An alarm point's hold as stored (taken over) or as another coordinator applied it."""

    hold: Hold


@dataclass(frozen=True, slots=True)
class LimitsChanged:
    """This coordinator applied new definitions of a sensor: for the others, and to store."""

    change: LimitsChange


@dataclass(frozen=True, slots=True)
class HoldChanged:
    """This coordinator changed an alarm point's hold: for the others, and to store."""

    hold: Hold


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """An operator's action (or its automatic end, a shelving's time up) took effect."""

    action: Action


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
    change: str  # "raised", "cleared", "acked", "held" or "commented"


@dataclass(frozen=True, slots=True)
class SourceUpdated:
    """A sensor's metadata changed (it announced); `state` is what viewers should now show."""

    state: SensorState


@dataclass(frozen=True, slots=True)
class TwinsFound:
    """Two runs of one sensor, from different sources, overlap in time (`twins`)."""

    warning: TwinWarning


Event = (
    FrameReceived
    | SourceAnnounced
    | SourceLeft
    | SourceHandedOver
    | ClockTicked
    | AckRequested
    | CommentRequested
    | HoldRequested
    | LimitsRequested
    | LimitsObserved
    | HoldObserved
    | LimitsChanged
    | HoldChanged
    | ActionTaken
    | AlarmObserved
    | LivenessChanged
    | AlarmChanged
    | SourceUpdated
    | TwinsFound
)
