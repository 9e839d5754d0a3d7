"""A plain per-reading model of the limit rule, written apart from the coordinator's code: the
unit tests hold `judge` and the coordinator's fast paths to it."""

from __future__ import annotations

from controlroom.plant.alarm_limits import AlarmLimit, Level


class ByTheRule:
    """Each sensor's points, reading by reading: the changes ("sensor:LEVEL:raised")."""

    def __init__(self, limits: dict[str, list[AlarmLimit]]) -> None:
        self.limits = limits
        self.active: set[tuple[str, Level]] = set()
        self.since: dict[tuple[str, Level], int] = {}
        self.changes: list[str] = []

    def read(self, name: str, value: float, at: int) -> None:
        clears, raises = [], []
        for limit in self.limits.get(name, []):
            key = (name, limit.level)
            high, band, edge = limit.level.high, limit.deadband, limit.value
            if key in self.active:
                wanted = value <= edge - band if high else value >= edge + band
                delay = limit.off_delay_s
            else:
                wanted = value > edge if high else value < edge
                delay = limit.on_delay_s
            if not wanted:
                self.since.pop(key, None)
                continue
            started = self.since.setdefault(key, at)
            if at - started >= round(delay * 1_000_000):
                del self.since[key]
                if key in self.active:
                    self.active.discard(key)
                    clears.append(f"{name}:{limit.level.value}:cleared")
                else:
                    self.active.add(key)
                    raises.append(f"{name}:{limit.level.value}:raised")
        self.changes += clears + raises
