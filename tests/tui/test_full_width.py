"""Every line of the sensor table and the alarm panel paints the widget's full width, and nothing
that looks like a reading is left beside a row: 200 sensors at 140x45, then resized to 100x30
(the sparkline column shrinks), as an operator saw it (issue 10)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.pilot import Pilot
from textual.strip import Strip

from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import Condition, Liveness, SensorInfo
from controlroom.tui import ControlRoom
from controlroom.tui.line_list import LineList
from controlroom.tui.sensors.sparkline import BLOCKS
from tests.tui.demo import NOW_US, S, demo_app, record, wave

SENSORS = 200
ALARMS = 19


def crowded_app() -> ControlRoom:
    """The demo plant plus 200 synthetic sensors and enough alarms to scroll the panel."""
    app = demo_app()
    model = app.model
    model.load_sensors(
        SensorInfo(f"synthetic-{n:03d}", f"SYN-{n}", "", 5.0, 95.0) for n in range(1, SENSORS + 1)
    )
    for n in range(1, SENSORS + 1):
        view = model.sensors[f"synthetic-{n:03d}"]
        for i in range(120):
            record(view, NOW_US - (120 - i) * S // 10, wave(i, 5.0, 95.0, n))
        view.sensor_state.liveness = Liveness.LIVE
    model.load_alarms(
        Alarm(f"s{n}", f"synthetic-{n:03d}", Condition.LOW, NOW_US - 9 * S, 4.0, 5.0, 3.9)
        for n in range(1, ALARMS + 1)
    )
    return app


def screen_lines(pilot: Pilot[None]) -> list[Strip]:
    """What the compositor sends to the terminal, line by line (scrollbars included)."""
    return pilot.app.screen._compositor.render_strips()


def check(pilot: Pilot[None], widget: LineList) -> None:
    width = widget.scrollable_content_region.width
    lines = [widget.render_line(y) for y in range(widget.scrollable_content_region.height)]
    assert lines, "nothing drawn"
    assert {line.cell_length for line in lines} == {width}
    # Beside the rows (the scrollbar's column) there must be nothing a person could take for a
    # stray sparkline block.
    region = widget.region
    right = region.x + width
    for y in range(region.y, region.bottom):
        line = screen_lines(pilot)[y]
        beside = line.crop(right, region.right).text
        assert cell_len(beside) == region.right - right
        assert not set(beside) & set(BLOCKS + "▁▂▃▄▅▆▇"), f"line {y}: {beside!r}"


async def test_every_line_is_full_width_and_clean_after_the_sparklines_shrink() -> None:
    app = crowded_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        table, panel = app.table, app.alarm_panel
        assert len(table.rows) == SENSORS + 7
        assert table.max_scroll_y > 0 and panel.max_scroll_y > 0  # both have scrollbars
        wide = table.columns(table.scrollable_content_region.width).spark
        check(pilot, table)
        check(pilot, panel)

        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert table.columns(table.scrollable_content_region.width).spark < wide
        check(pilot, table)
        check(pilot, panel)

        await pilot.press("pagedown", "pagedown")  # the scrollbar's thumb moves down
        await pilot.pause()
        check(pilot, table)
