"""The control room's model: how events change what the operator sees (no UI, no broker)."""

from __future__ import annotations

import msgspec

from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.alarms import Alarm
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Condition, Liveness, SensorInfo
from controlroom.tui.model import PlantModel, RateMeter
from controlroom.tui.sensors.sparkline import sparkline
from controlroom.tui.states import format_range
from controlroom.wire.envelopes import (
    AlarmEvent,
    Snapshot,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    TwinWarning,
)

T0 = 1_780_000_000_000_000


def alarm(id: str, sensor: str = "s1", raised: int = T0, **fields: object) -> Alarm:
    return msgspec.structs.replace(
        Alarm(id, sensor, Condition.HIGH, raised, 9.0, 8.0, 9.5), **fields
    )


def described(*names: str) -> SourceStates:
    return SourceStates([SourceState(SensorInfo(name)) for name in names])


def test_a_gateway_frame_updates_every_sensor_it_carries() -> None:
    model = PlantModel()
    model.apply(described("a", "b"))
    model.apply(Frame("gw", "run1", ["a", "b", "a"], [1, 1, 2], [T0, T0, T0 + 10], [1.0, 2.0, 3.0]))
    assert model.sensors["a"].value == 3.0
    assert model.sensors["a"].values(10) == [1.0, 3.0]
    assert model.sensors["b"].value == 2.0
    assert model.readings.total == 3
    assert [v.name for v in model.ordered()] == ["a", "b"]


def test_status_and_alarms_decide_the_state_word() -> None:
    model = PlantModel()
    model.apply(SourceState(SensorInfo("s1", safe_max=8.0), Liveness.LIVE))
    assert model.sensors["s1"].state == "NORMAL"
    model.apply(AlarmEvent(alarm("al1")))
    assert model.sensors["s1"].state == "HIGH"
    model.apply(StatusChange("s1", Liveness.STALE, T0))
    assert model.sensors["s1"].state == "STALE"  # silence outranks the value's condition
    model.apply(StatusChange("s1", Liveness.LIVE, T0))
    model.apply(AlarmEvent(alarm("al1", cleared_at=T0 + 5)))
    assert model.sensors["s1"].state == "NORMAL"


def test_unacknowledged_alarms_come_first_and_fields_never_unset() -> None:
    model = PlantModel()
    model.apply(AlarmEvent(alarm("acked", raised=T0 + 3, acked_at=T0 + 4, acked_by="ann")))
    model.apply(AlarmEvent(alarm("cleared", raised=T0 + 2, cleared_at=T0 + 3)))
    model.apply(AlarmEvent(alarm("open", raised=T0 + 1)))
    assert [a.id for a in model.alarm_list()] == ["open", "cleared", "acked"]
    first = model.alarm_for("s1")
    assert first is not None and first.id == "open"
    critical = msgspec.structs.replace(
        alarm("critical", raised=T0), level=Level.HH, priority=Priority.CRITICAL
    )
    model.apply(AlarmEvent(critical))
    assert model.alarm_list()[0].id == "critical"  # by priority first, then time
    model.apply(AlarmEvent(alarm("acked", raised=T0 + 3)))  # an older event arriving late
    assert model.alarms["acked"].acked_by == "ann"


def test_a_snapshot_drops_open_alarms_that_ended_meanwhile() -> None:
    model = PlantModel()
    model.apply(AlarmEvent(alarm("gone")))
    model.apply(Snapshot(sources=[SourceState(SensorInfo("s1"))], alarms=[alarm("still")]))
    assert set(model.alarms) == {"still"}


def test_stored_readings_go_before_live_ones() -> None:
    model = PlantModel()
    model.apply(described("s1"))
    model.apply(Frame("s1", "r", ["s1"], [5], [T0 + 50], [5.0]))
    model.load_recent({"s1": [(T0 + 10, 1.0), (T0 + 20, 2.0), (T0 + 60, 9.0)]})
    assert model.sensors["s1"].values(10) == [1.0, 2.0, 5.0]


def test_a_redraw_shows_the_latest_value_of_each_row() -> None:
    """The rows the table holds are the views themselves: taking the changes (what the redraw
    does first) reads new frames into them. Without it the value column stayed blank."""
    model = PlantModel()
    model.apply(described("a", "b"))
    rows = model.ordered()
    model.take_changes()
    model.apply(Frame("gw", "run1", ["a", "b"], [1, 1], [T0, T0], [1.5, 2.5]))
    assert model.take_changes() == (False, True, False)
    assert [row.value for row in rows] == [1.5, 2.5]


def test_change_flags_are_taken_once() -> None:
    model = PlantModel()
    model.take_changes()
    assert model.take_changes() == (False, False, False)
    model.apply(described("s1"))
    assert model.take_changes() == (True, True, False)
    model.apply(Frame("s1", "r", ["s1"], [1], [T0], [1.0]))
    assert model.take_changes() == (False, True, False)


def test_rate_meter() -> None:
    meter = RateMeter(window_s=3)
    assert meter.rate(now=0.0) == 0.0
    meter.count(200)
    assert meter.rate(now=1.0) == 200.0


def test_sparkline_scales_and_right_aligns() -> None:
    assert sparkline([], 3) == "   "
    assert sparkline([1.0, 1.0], 3) == " ▄▄"
    assert sparkline([0.0, 1.0, 2.0, 3.0], 3) == "▁▅█"  # scaled to the values shown


def test_safe_ranges_read_well() -> None:
    assert format_range(0.0008, 0.002) == "0.0008\u20130.002"
    assert format_range(580, 625) == "580\u2013625"
    assert format_range(None, None) == "—"


def test_batched_source_and_status_changes_apply_to_every_sensor() -> None:
    model = PlantModel()
    infos = [SensorInfo(f"s{n}", safe_max=8.0) for n in range(3)]
    model.apply(SourceStates([SourceState(info, Liveness.LIVE) for info in infos]))
    assert [v.name for v in model.ordered()] == ["s0", "s1", "s2"]
    model.apply(StatusChanges([StatusChange(f"s{n}", Liveness.STALE, T0) for n in (0, 2)]))
    assert [model.sensors[f"s{n}"].state for n in range(3)] == ["STALE", "NORMAL", "STALE"]


def test_a_twin_warning_marks_the_sensors_row_even_before_it_is_described() -> None:
    model = PlantModel()
    model.apply(described("a"))
    model.values_changed = False
    model.apply(TwinWarning("a", ["gw", "a"], ["r1", "r2"], T0))
    assert model.sensors["a"].twin and model.values_changed
    model.apply(TwinWarning("b", ["gw", "b"], ["r1", "r3"], T0))
    model.apply(described("b", "c"))
    assert [name for name, row in model.sensors.items() if row.twin] == ["a", "b"]
    assert model.sensors["b"].frozen(5).twin
