"""Liveness: a sensor silent for three periods is STALE, LIVE again on its next reading,
OFFLINE after its goodbye.

Only sensors whose readings reach this coordinator are judged: with several coordinators, each
source's queue has one active consumer, and only that one knows whether the source is silent.
"""

from __future__ import annotations

from itertools import repeat

from controlroom.messages import Liveness, now_us
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    ClockTicked,
    FrameReceived,
    LivenessChanged,
    SourceAnnounced,
    SourceLeft,
)

STALE_AFTER_PERIODS = 3
CHECK_INTERVAL_US = 250_000


class LivenessMonitor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._periods_us: dict[str, int] = {}
        self._last_heard: dict[str, int] = {}
        self._liveness: dict[str, Liveness] = {}
        self._live: set[str] = set()  # the sensors whose liveness is LIVE
        self._checked_at = 0
        bus.subscribe(SourceAnnounced, self._on_announced)
        bus.subscribe(FrameReceived, self._on_frame)
        bus.subscribe(ClockTicked, self._on_tick)
        bus.subscribe(SourceLeft, self._on_left)

    def _on_announced(self, event: SourceAnnounced) -> None:
        now = now_us()
        for info in event.announce.sensors:
            self._periods_us[info.name] = int(info.period_s * 1_000_000)
            self._set(info.name, Liveness.LIVE, now)

    def _on_frame(self, event: FrameReceived) -> None:
        now = now_us()
        names = event.fresh.names
        self._last_heard.update(zip(names, repeat(now)))
        if not self._live.issuperset(names):  # C loops only while every sensor is LIVE
            for name in names:
                if name not in self._live:
                    self._set(name, Liveness.LIVE, now)

    def _on_tick(self, event: ClockTicked) -> None:
        now = event.now_us
        if now - self._checked_at < CHECK_INTERVAL_US:
            return
        self._checked_at = now
        for name, heard in self._last_heard.items():
            period = self._periods_us.get(name, 1_000_000)
            if now - heard > STALE_AFTER_PERIODS * period and (
                self._liveness.get(name) is Liveness.LIVE
            ):
                self._set(name, Liveness.STALE, now)

    def _on_left(self, event: SourceLeft) -> None:
        now = now_us()
        for name in event.goodbye.last_seq:
            self._last_heard.pop(name, None)
            self._set(name, Liveness.OFFLINE, now)

    def _set(self, sensor: str, liveness: Liveness, at: int) -> None:
        if self._liveness.get(sensor) is liveness:
            return
        self._liveness[sensor] = liveness
        if liveness is Liveness.LIVE:
            self._live.add(sensor)
        else:
            self._live.discard(sensor)
        self._bus.emit(LivenessChanged(sensor, liveness, at))
