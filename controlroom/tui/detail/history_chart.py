"""A sensor's chart: stored history joined with live readings, safe range and alarms marked;
up to three more sensors laid over it on the same time axis.

Overlaid, each sensor keeps its own scale (the first sensor's values on the axis, each other
one stretched from its own low..high in the window onto the first one's) or all are
normalised to their safe ranges (0 the safe minimum, 1 the safe maximum, so every limit is on
the same two lines). Each line has its name (and, on its own scale, its range) in the legend:
a colour never speaks alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from textual_plotext import PlotextPlot

from controlroom.plant.alarms import Alarm
from controlroom.tui.states import LIMIT_CHART, PRIORITY_CHART, format_range, priority_of


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


MAX_SENSORS = 4  # the detail screen's sensor and up to three laid over it
COLOURS = ("cyan", "orange", "magenta", "white")


class Scale(StrEnum):
    OWN = "own scale"
    NORMALISED = "normalised to safe ranges"


@dataclass(slots=True)
class Series:
    """One sensor's line on the chart."""

    name: str
    unit: str
    times: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    safe_min: float | None = None
    safe_max: float | None = None


def span(values: list[float]) -> tuple[float, float]:
    """Its low and high (a flat or empty line: a unit around it, so it maps to the middle)."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return low - 0.5, high + 0.5
    return low, high


def normalised(series: Series) -> list[float]:
    """Its values as fractions of its safe range (0 at the safe minimum, 1 at the maximum);
    with one side or none of a safe range, of its window's own low..high instead."""
    low, high = series.safe_min, series.safe_max
    if low is None or high is None or not high > low:
        low, high = span(series.values)
    return [(value - low) / (high - low) for value in series.values]


def onto(series: Series, target: tuple[float, float]) -> list[float]:
    """Its values stretched from its own low..high onto `target` (the first sensor's)."""
    low, high = span(series.values)
    to_low, to_high = target
    factor = (to_high - to_low) / (high - low)
    return [to_low + (value - low) * factor for value in series.values]


def overlay_lines(
    main: Series, others: list[Series], scale: Scale
) -> list[tuple[Series, list[float], str]]:
    """Each sensor's line as drawn (values on the chart's axis) and its legend text."""
    if scale is Scale.NORMALISED:
        return [(s, normalised(s), s.name) for s in (main, *others)]
    target = span(main.values)
    lines = [(main, main.values, f"{main.name} ({main.unit or 'value'})")]
    for other in others:
        shown = format_range(*span(other.values)) if other.values else "no readings"
        unit = f" {other.unit}" if other.unit else ""
        lines.append((other, onto(other, target), f"{other.name} ({shown}{unit})"))
    return lines


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
    overlays: list[Series] = field(default_factory=list)  # sensors laid over this one
    scale: Scale = Scale.OWN


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
        if data.overlays:
            self._draw_overlaid(data, x)
            self.refresh()
            return
        xs = [x(t) for t in data.times]
        if data.lows != data.means or data.highs != data.means:
            plt.plot(xs, data.lows, color="gray", marker="dot")
            plt.plot(xs, data.highs, color="gray", marker="dot")
        if xs:
            plt.plot(xs, data.means, color="cyan", marker="braille")
        if data.safe_min is not None:
            plt.hline(data.safe_min, color=LIMIT_CHART)
        if data.safe_max is not None:
            plt.hline(data.safe_max, color=LIMIT_CHART)
        start = data.now_us - window.seconds * 1_000_000
        for alarm in data.alarms:
            colour = PRIORITY_CHART[priority_of(alarm)]
            if alarm.raised_at >= start:
                plt.vline(x(alarm.raised_at), color=colour)
            if alarm.cleared_at is not None and alarm.cleared_at >= start:
                plt.vline(x(alarm.cleared_at), color=LIMIT_CHART)
        self.refresh()

    def _draw_overlaid(self, data: ChartData, x: Callable[[int], float]) -> None:
        """Up to four sensors on one time axis; the first one's alarms marked."""
        plt = self.plt
        main = Series(data.title, data.unit, data.times, data.means, data.safe_min, data.safe_max)
        names = " + ".join([data.title, *(o.name for o in data.overlays)])
        plt.title(f"{names} · {data.scale.value}")
        if data.scale is Scale.NORMALISED:
            plt.ylabel("fraction of the safe range")
            plt.hline(0.0, color=LIMIT_CHART)
            plt.hline(1.0, color=LIMIT_CHART)
        for (series, values, legend), colour in zip(
            overlay_lines(main, data.overlays, data.scale), COLOURS, strict=False
        ):
            if series.times:
                plt.plot(
                    [x(t) for t in series.times],
                    values,
                    color=colour,
                    marker="braille",
                    label=legend,
                )
        if data.scale is Scale.OWN:
            for limit in (data.safe_min, data.safe_max):
                if limit is not None:
                    plt.hline(limit, color=LIMIT_CHART)
        start = data.now_us - data.window.seconds * 1_000_000
        for alarm in data.alarms:
            if alarm.raised_at >= start:
                plt.vline(x(alarm.raised_at), color=PRIORITY_CHART[priority_of(alarm)])
