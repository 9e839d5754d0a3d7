"""Liveness: a sensor silent for three periods is STALE, LIVE again on its next reading,
OFFLINE after its goodbye.

Only sensors whose readings reach this coordinator are judged: with several coordinators, each
source's queue has one active consumer, and only that one knows whether the source is silent. A
source handed over to another coordinator is no longer judged here.
"""

from __future__ import annotations

from itertools import repeat

from controlroom.clock import now_us
from controlroom.plant.readings import Layout
from controlroom.plant.sensors import STALE_AFTER_PERIODS, Liveness
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    ClockTicked,
    FrameReceived,
    LivenessChanged,
    SourceAnnounced,
    SourceHandedOver,
    SourceLeft,
)

CHECK_INTERVAL_US = 250_000


class LivenessMonitor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._periods_us: dict[str, int] = {}
        self._last_heard: dict[str, int] = {}
        self._liveness: dict[str, Liveness] = {}
        self._live: set[str] = set()  # the sensors whose liveness is LIVE
        self._changes = 0  # bumped on every change of a sensor's liveness
        # By source: the (one-tick) layout of its latest frame and when it came, not yet in
        # _last_heard (written out before each check), and the _changes count when all that
        # layout's sensors were last seen LIVE. A gateway that ticks costs nothing per reading.
        self._unheard: dict[str, tuple[Layout, int]] = {}
        self._all_live: dict[str, tuple[Layout, int]] = {}
        self._checked_at = 0
        self._layouts: dict[str, Layout] = {}  # each source's latest (one-tick) layout
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(ClockTicked, self._on_tick)
        bus.subscribe(SourceLeft, self._on_left)
        bus.subscribe(SourceHandedOver, self._on_handed_over)

    def _on_announced(self, event: SourceAnnounced) -> None:
        now = now_us()
        for info in event.announce.sensors:
            self._periods_us[info.name] = int(info.period_s * 1_000_000)
            self._set(info.name, Liveness.LIVE, now)

    def _on_frame(self, event: FrameReceived) -> None:
        now = now_us()
        frame = event.fresh
        source = frame.source
        tick = frame.layout.tick
        unheard = self._unheard.get(source)
        if unheard is not None and unheard[0] is not tick:
            self._hear(*unheard)
        self._unheard[source] = (tick, now)
        if self._layouts.get(source) is not tick:
            self._layouts[source] = tick
        all_live = self._all_live.get(source)
        if all_live is not None and all_live[1] == self._changes and all_live[0] is tick:
            return
        if not self._live.issuperset(tick.names):  # C loops only while every sensor is LIVE
            for name in tick.names:
                if name not in self._live:
                    self._set(name, Liveness.LIVE, now)
        self._all_live[source] = (tick, self._changes)

    def _hear(self, layout: Layout, at: int) -> None:
        self._last_heard.update(zip(layout.names, repeat(at)))

    def _on_tick(self, event: ClockTicked) -> None:
        now = event.now_us
        if now - self._checked_at < CHECK_INTERVAL_US:
            return
        self._checked_at = now
        for unheard in self._unheard.values():
            self._hear(*unheard)
        self._unheard.clear()
        for name, heard in self._last_heard.items():
            period = self._periods_us.get(name, 1_000_000)
            if now - heard > STALE_AFTER_PERIODS * period and (
                self._liveness.get(name) is Liveness.LIVE
            ):
                self._set(name, Liveness.STALE, now)

    def _on_left(self, event: SourceLeft) -> None:
        now = now_us()
        unheard = self._unheard.pop(event.goodbye.source, None)
        if unheard is not None:
            self._hear(*unheard)
        for name in event.goodbye.last_seq:
            self._last_heard.pop(name, None)
            self._set(name, Liveness.OFFLINE, now)

    def _on_handed_over(self, event: SourceHandedOver) -> None:
        """Its sensors' silence here says nothing now: another coordinator hears them."""
        self._unheard.pop(event.source, None)
        self._all_live.pop(event.source, None)
        layout = self._layouts.pop(event.source, None)
        for name in layout.names if layout is not None else ():
            self._last_heard.pop(name, None)

    def _set(self, sensor: str, liveness: Liveness, at: int) -> None:
        if self._liveness.get(sensor) is liveness:
            return
        self._liveness[sensor] = liveness
        self._changes += 1
        if liveness is Liveness.LIVE:
            self._live.add(sensor)
        else:
            self._live.discard(sensor)
        self._bus.emit(LivenessChanged(sensor, liveness, at))
