"""A control room filled with deterministic data: fixed clock, fixed values, no broker or DB."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from controlroom.config import Settings
from controlroom.db.history import Bucket, History, Resolution
from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import Condition, Liveness, SensorInfo
from controlroom.simulation.presets import REFERENCE_PLANT
from controlroom.tui import ControlRoom
from controlroom.tui.model import SensorView

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW_US = int(NOW.timestamp() * 1_000_000)
S = 1_000_000


def wave(i: int, low: float, high: float, phase: float) -> float:
    mid, amp = (low + high) / 2, (high - low) / 2
    return mid + amp * math.sin(i / 6 + phase)


def record(view: SensorView, at: int, value: float) -> None:
    """A reading as the live feed would leave it: the latest value, and in the sparkline."""
    view.recent.append((at, value))
    view.sensor_state.value, view.sensor_state.taken_on = value, at


def demo_app() -> ControlRoom:
    app = ControlRoom(Settings(plant="demo"), operator="ops", live=False, clock=lambda: NOW)
    model = app.model
    model.load_sensors(p.info for p in REFERENCE_PLANT)
    model.load_sensors([SensorInfo("feedwater_flow", "FLW-001", "kg/s", 150.0, 210.0)])
    for n, view in enumerate(model.ordered()):
        info = view.info
        low = info.safe_min if info.safe_min is not None else 0.0
        high = info.safe_max if info.safe_max is not None else 1.0
        for i in range(60):
            record(view, NOW_US - (60 - i) * S, wave(i, low, high, n))
        view.sensor_state.liveness = Liveness.LIVE
    model.sensors["turbine_temp_out"].sensor_state.liveness = Liveness.STALE
    model.sensors["feedwater_flow"].sensor_state.liveness = Liveness.OFFLINE
    record(model.sensors["boiler_temp_out"], NOW_US, 631.4)
    model.load_alarms(
        [
            Alarm("a1", "boiler_temp_out", Condition.HIGH, NOW_US - 20 * S, 626.2, 625.0, 631.4),
            Alarm(
                "a2", "condensor_temp_out", Condition.LOW, NOW_US - 300 * S, 82.1, 83.0, 81.7,
                cleared_at=NOW_US - 240 * S,
            ),
            Alarm(
                "a3", "boiler_pressure_out", Condition.LOW, NOW_US - 600 * S, 15.08, 15.1, 15.05,
                cleared_at=NOW_US - 560 * S, acked_at=NOW_US - 500 * S, acked_by="ann",
            ),
        ]
    )  # fmt: skip
    app.history = DemoHistory(app.settings)
    return app


class DemoHistory(History):
    """Stored history without a database: a slow wave over the window, binned like the server."""

    async def window(
        self,
        sensor: str,
        since_us: int,
        until_us: int,
        max_points: int = 600,
        resolution: Resolution | None = None,
    ) -> list[Bucket]:
        step = (until_us - since_us) // 120
        buckets = []
        for i in range(120):
            mean = wave(i, 600.0, 622.0, 0.0)
            buckets.append(Bucket(since_us + i * step, mean, mean - 1.5, mean + 1.5, 10))
        return buckets

    async def alarms(self, sensor: str, since_us: int, until_us: int) -> list[Alarm]:
        return []

    async def close(self) -> None:
        return None
