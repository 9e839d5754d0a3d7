"""A sensor's chart: stored history joined with live readings, safe range and alarms marked."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual_plotext import PlotextPlot

from controlroom.plant.alarms import Alarm


@dataclass(frozen=True, slots=True)
class Window:
    key: str
    label: str
    seconds: int
    unit_s: int
    unit_label: str


WINDOWS: tuple[Window, ...] = (
    Window("1", "1 min", 60, 1, "seconds ago"),
    Window("2", "15 min", 15 * 60, 60, "minutes ago"),
    Window("3", "1 h", 3600, 60, "minutes ago"),
    Window("4", "24 h", 24 * 3600, 3600, "hours ago"),
    Window("5", "7 d", 7 * 86400, 86400, "days ago"),
    Window("6", "30 d", 30 * 86400, 86400, "days ago"),
    Window("7", "1 y", 365 * 86400, 86400, "days ago"),
)


@dataclass(slots=True)
class ChartData:
    """Everything one drawing needs; times are microseconds UTC."""

    title: str
    unit: str
    window: Window
    now_us: int
    times: list[int] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    lows: list[float] = field(default_factory=list)
    highs: list[float] = field(default_factory=list)
    safe_min: float | None = None
    safe_max: float | None = None
    alarms: list[Alarm] = field(default_factory=list)


class HistoryChart(PlotextPlot):
    """Redrawn from a ChartData; plotext builds the picture at render time, at the current size."""

    DEFAULT_CSS = """
    HistoryChart { height: 1fr; }
    """

    def draw(self, data: ChartData) -> None:
        plt = self.plt
        plt.clear_data()
        window = data.window
        scale = 1_000_000 * window.unit_s

        def x(us: int) -> float:
            return (us - data.now_us) / scale

        plt.title(data.title)
        plt.xlabel(window.unit_label)
        plt.ylabel(data.unit)
        plt.xlim(-window.seconds / window.unit_s, 0)
        xs = [x(t) for t in data.times]
        if data.lows != data.means or data.highs != data.means:
            plt.plot(xs, data.lows, color="gray", marker="dot")
            plt.plot(xs, data.highs, color="gray", marker="dot")
        if xs:
            plt.plot(xs, data.means, color="cyan", marker="braille")
        if data.safe_min is not None:
            plt.hline(data.safe_min, color="green")
        if data.safe_max is not None:
            plt.hline(data.safe_max, color="green")
        start = data.now_us - window.seconds * 1_000_000
        for alarm in data.alarms:
            colour = "red" if alarm.kind.value == "HIGH" else "blue"
            if alarm.raised_at >= start:
                plt.vline(x(alarm.raised_at), color=colour)
            if alarm.cleared_at is not None and alarm.cleared_at >= start:
                plt.vline(x(alarm.cleared_at), color="green")
        self.refresh()
