"""The one plant picture: each rule tested once, and the control room and the bridge, which both
fold viewer messages through it, agree on every sequence of messages."""

from __future__ import annotations

import msgspec
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.clock import now_us
from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.alarm_states import HOLDS, AlarmState, state_of
from controlroom.plant.alarms import Alarm, Comment, Hold, HoldKind
from controlroom.plant.picture import Changes, PlantPicture
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Condition, Liveness, SensorInfo, SensorState
from controlroom.tui.alarms.alarm_panel import alarm_status
from controlroom.tui.model import PlantModel
from controlroom.wire.codec import Message
from controlroom.wire.envelopes import (
    AlarmEvent,
    HoldEvent,
    Snapshot,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    TwinWarning,
)
from workers.bridge.view import PlantView

T0 = 1_780_000_000_000_000
SENSORS = ("a", "b", "c")


def state(name: str, condition: Condition = Condition.NORMAL, **fields: object) -> SourceState:
    return msgspec.structs.replace(
        SourceState(SensorInfo(name, safe_max=8.0), condition=condition), **fields
    )


def alarm(id: str, sensor: str = "a", raised: int = T0, **fields: object) -> Alarm:
    return msgspec.structs.replace(
        Alarm(id, sensor, Condition.HIGH, raised, 9.0, 8.0, 9.0), **fields
    )


def condition_of(picture: PlantPicture, name: str) -> Condition:
    """A sensor's condition now (a call, so that a type checker does not keep the last one)."""
    return picture.sensors[name].condition


def test_a_sensor_exists_once_described_and_frames_alone_add_nothing() -> None:
    picture = PlantPicture()
    changes = picture.apply(Frame("gw", "r", ["a"], [1], [T0], [1.0]))
    assert changes.unknown and not picture.knows("a") and changes.frame is not None
    assert [s.name for s in picture.apply(state("a")).described] == ["a"]
    again = picture.apply(Frame("gw", "r", ["a"], [2], [T0 + 1], [2.0]))
    assert not again.unknown and picture.sensors["a"].value == 2.0
    assert picture.apply(state("a")).described == []  # the same metadata: nothing new


def test_the_newest_active_alarm_decides_the_condition_else_the_coordinator() -> None:
    picture = PlantPicture()
    picture.apply(state("a", Condition.LOW))
    assert condition_of(picture, "a") is Condition.LOW  # no alarm known: its word
    changes = picture.apply(AlarmEvent(alarm("x")))
    assert [s.name for s in changes.restated] == ["a"]
    assert condition_of(picture, "a") is Condition.HIGH
    picture.apply(state("a", Condition.NORMAL))  # a stale word loses to a known alarm
    assert condition_of(picture, "a") is Condition.HIGH
    picture.apply(AlarmEvent(alarm("x", cleared_at=T0 + 5)))
    assert condition_of(picture, "a") is Condition.NORMAL


def test_an_alarm_is_kept_while_open_and_reported_once_closed() -> None:
    picture = PlantPicture()
    picture.apply(AlarmEvent(alarm("x")))
    picture.apply(AlarmEvent(alarm("x", acked_at=T0 + 1, acked_by="ann")))
    assert set(picture.alarms) == {"x"}  # active, acknowledged: open
    changes = picture.apply(AlarmEvent(alarm("x", cleared_at=T0 + 2)))
    assert picture.alarms == {}
    (closed,) = changes.alarms
    assert closed.acked_by == "ann" and closed.cleared_at == T0 + 2  # the merged state
    late = picture.apply(AlarmEvent(alarm("x")))  # an older copy arriving last
    assert not late and picture.alarms == {} and not picture.closed["x"].open


def test_a_snapshot_ends_open_alarms_it_no_longer_lists() -> None:
    picture = PlantPicture()
    picture.apply(state("a"))
    picture.apply(AlarmEvent(alarm("gone")))
    changes = picture.apply(Snapshot([state("a")], [alarm("still", raised=T0 + 1)]))
    assert [a.id for a in changes.ended] == ["gone"] and changes.ended[0].cleared_at is None
    assert set(picture.alarms) == {"still"}
    assert condition_of(picture, "a") is Condition.HIGH  # "still" is active


def test_a_copy_of_an_alarm_that_changes_behind_the_picture_is_seen_changing() -> None:
    """The coordinator's monitor keeps mutating its own alarm object; the picture keeps a copy."""
    picture = PlantPicture()
    picture.apply(state("a"))
    raised = alarm("x")
    picture.alarm(raised, Changes())
    raised.cleared_at = T0 + 9
    changes = Changes()
    picture.alarm(raised, changes)
    assert changes.restated and condition_of(picture, "a") is Condition.NORMAL


def test_readings_before_a_sensor_was_described_are_not_its_value() -> None:
    picture = PlantPicture()
    picture.apply(Frame("gw", "r", ["a"], [1], [T0], [1.0]))
    picture.apply(state("a"))
    assert picture.sensors["a"].value is None


# --- the control room and the bridge agree ------------------------------------------------------

names = st.sampled_from(SENSORS)
alarm_ids = st.sampled_from(["x1", "x2", "x3"])
times = st.integers(min_value=T0, max_value=T0 + 100)


def test_a_twin_warning_is_remembered_by_sensor_and_a_repeat_changes_nothing() -> None:
    picture = PlantPicture()
    warning = TwinWarning("a", ["gw", "a"], ["r1", "r2"], T0)
    assert picture.apply(warning).warnings == [warning]
    assert picture.apply(warning).warnings == []
    later = TwinWarning("a", ["gw", "a"], ["r1", "r3"], T0 + 5)
    assert picture.apply(later).warnings == [later]
    assert picture.warnings == {"a": later}


FAR = 4_000_000_000_000_000  # a shelving's end still to come, whenever the test runs


@st.composite
def holds(draw: st.DrawFn, sensor: str | None = None, level: Level | None = None) -> Hold:
    kind = draw(st.sampled_from([None, *HoldKind]))
    until = draw(st.sampled_from([None, T0 + 50, FAR])) if kind is HoldKind.SHELVED else None
    return Hold(
        sensor or draw(names),
        level or draw(st.sampled_from([Level.H, Level.L])),
        kind,
        draw(times),
        draw(st.sampled_from(["ann", "bob"])),
        "a reason",
        until,
    )


@st.composite
def alarms(draw: st.DrawFn) -> Alarm:
    raised = draw(times)
    cleared = draw(st.none() | st.integers(min_value=raised, max_value=T0 + 200))
    acked = draw(st.none() | st.integers(min_value=raised, max_value=T0 + 200))
    identity = draw(alarm_ids)
    sensor = SENSORS[int(identity[-1]) % len(SENSORS)]  # an alarm id belongs to one sensor
    level = Level.H if identity != "x2" else Level.L
    return Alarm(
        identity,
        sensor,
        Condition.HIGH if identity != "x2" else Condition.LOW,
        T0 + int(identity[-1]),
        9.0,
        8.0,
        draw(st.floats(min_value=9.0, max_value=20.0)),
        cleared_at=cleared,
        acked_at=acked,
        acked_by=None if acked is None else "ann",
        level=level,
        priority=draw(st.sampled_from(list(Priority))),
        hold=draw(st.none() | holds(sensor, level)),
        comments=draw(
            st.lists(st.builds(Comment, times, st.just("ann"), st.just("x")), max_size=2)
        ),
    )


states = st.builds(
    lambda name, liveness, condition, serial: SourceState(
        SensorInfo(name, serial_no=serial, safe_max=8.0), liveness, condition
    ),
    names,
    st.sampled_from(list(Liveness)),
    st.sampled_from(list(Condition)),
    st.sampled_from(["", "SN-1"]),
)
messages: st.SearchStrategy[Message] = st.one_of(
    states,
    st.builds(lambda s: SourceStates(s), st.lists(states, max_size=3)),
    st.builds(StatusChange, names, st.sampled_from(list(Liveness)), times),
    st.builds(
        lambda c: StatusChanges(c),
        st.lists(
            st.builds(StatusChange, names, st.sampled_from(list(Liveness)), times), max_size=3
        ),
    ),
    st.builds(AlarmEvent, alarms()),
    st.builds(HoldEvent, holds()),
    st.builds(lambda name: TwinWarning(name, ["gw", name], ["r1", "r2"], T0), names),
    st.builds(Snapshot, st.lists(states, max_size=3), st.lists(alarms(), max_size=3)),
    st.builds(
        lambda name, seq, value: Frame("gw", "r", [name], [seq], [T0 + seq], [value]),
        names,
        st.integers(min_value=1, max_value=100),
        st.floats(min_value=0, max_value=10),
    ),
)


def shown(sensors: dict[str, SensorState], open_alarms: dict[str, Alarm]) -> object:
    return (
        {name: (s.sensor, s.state, s.value) for name, s in sensors.items()},
        {
            key: (a.cleared_at, a.acked_at, a.acked_by, a.peak, a.hold, a.comments)
            for key, a in open_alarms.items()
        },
    )


@settings(max_examples=300)
@given(st.lists(messages, max_size=25))
def test_the_control_room_and_the_bridge_show_the_same_plant(sequence: list[Message]) -> None:
    model, view = PlantModel(), PlantView()
    for message in sequence:
        model.apply(message)
        view.apply(message)
    tui = shown({n: v.sensor_state for n, v in model.sensors.items()}, model.picture.alarms)
    bridge = shown(view.picture.sensors, view.picture.alarms)
    assert tui == bridge
    # And what each puts in front of a person: the table's state words and the open alarms in
    # the panel, against what a browser that connects now is sent.
    sent = [orjson.loads(outgoing.payload) for outgoing in view.discover()]
    page_states = {m["data"]["name"]: m["data"]["state"] for m in sent if m["type"] == "source"}
    assert page_states == {name: row.state for name, row in model.sensors.items()}
    page_alarms = {m["data"]["id"]: m["data"]["state"] for m in sent if m["type"] == "alarm"}
    now = now_us()
    assert page_alarms == {a.id: state_of(a, now).value for a in model.alarm_list() if a.open}
    panel = {a.id: panel_state(alarm_status(a)[0]) for a in model.alarm_list() if a.open}
    assert panel == {key: AlarmState(state) for key, state in page_alarms.items()}
    page_twins = {m["data"]["name"] for m in sent if m["type"] == "warning"}
    assert page_twins == set(view.picture.warnings) == set(model.picture.warnings)
    assert {name for name, row in model.sensors.items() if row.twin} == page_twins & set(
        model.sensors
    )


def panel_state(words: str) -> AlarmState:
    """The state an operator reads in the alarm panel's words."""
    for start, state in (
        ("! ACTIVE, NOT ACKED", AlarmState.UNACKED),
        ("! CLEARED, NOT ACKED", AlarmState.RETURNED_UNACKED),
        ("ACTIVE, acked", AlarmState.ACKED),
        ("cleared, acked", AlarmState.NORMAL),
    ):
        if words.startswith(start):
            return state
    for held in HOLDS:
        if words.startswith(held.value):
            return held
    raise AssertionError(f"no state in the panel's words {words!r}")
