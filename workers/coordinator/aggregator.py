"""The event aggregator: the coordinator's bus with every handler subscribed, in one place.

The service feeds it what arrives from the broker and sends what its handlers produced; the
unit tests drive the very same wiring without a broker.
"""

from __future__ import annotations

from controlroom.config import DEFAULT_MAX_SHELVE_S
from controlroom.plant.readings import Frame
from workers.coordinator.alarms import AlarmMonitor
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import Event, FrameReceived
from workers.coordinator.liveness import LivenessMonitor
from workers.coordinator.persistence import Persister
from workers.coordinator.registry import Registry
from workers.coordinator.sequencing import SequenceFilter
from workers.coordinator.twins import TwinWatch
from workers.coordinator.viewers import ViewerPublisher


class EventAggregator:
    """Handlers, none aware of another: registry, alarms, liveness, persistence, viewers,
    twin runs."""

    def __init__(
        self, persist_interval: float = 0.0, *, max_shelve_s: float = DEFAULT_MAX_SHELVE_S
    ) -> None:
        self.bus = MessageBus()
        self.registry = Registry(self.bus)
        self.alarms = AlarmMonitor(self.bus, max_shelve_s=max_shelve_s)
        self.liveness = LivenessMonitor(self.bus)
        self.persister = Persister(self.bus, persist_interval)
        self.twins = TwinWatch(self.bus)
        self.viewers = ViewerPublisher(self.bus)
        self.sequence = SequenceFilter()

    def handle(self, event: Event) -> None:
        self.bus.handle(event)

    def frame_received(self, frame: Frame) -> None:
        """A frame from a source, with what of it is new (readings seen before are not)."""
        self.bus.handle(FrameReceived(frame, self.sequence.fresh(frame)))
