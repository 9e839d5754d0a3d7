"""The coordinator drives each alarm point through the state machine (`alarm_states.step`) and
records each activation so that `state_of` says the same state: on random sequences of
readings, acknowledgements, holds of every kind and time passing (timed shelvings ending by
themselves), the point's status and its latest open alarm agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.clock import now_us
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority
from controlroom.plant.alarm_states import HOLDS, AlarmState, state_of
from controlroom.plant.alarms import Alarm, HoldKind
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import SensorInfo
from controlroom.wire.envelopes import AckRequest, Announce, HoldRequest, LimitsChange
from workers.coordinator.aggregator import EventAggregator
from workers.coordinator.events import (
    AckRequested,
    AlarmChanged,
    ClockTicked,
    HoldRequested,
    LimitsObserved,
    SourceAnnounced,
)

S = 1_000_000
POINT = ("boiler", Level.H)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.sampled_from([5.0, 15.0, 25.0])),
        st.tuples(st.just("ack"), st.none()),
        st.tuples(st.just("shelve"), st.sampled_from([None, 20, 60])),
        st.tuples(st.just("hold"), st.sampled_from([None, *HoldKind])),
        st.tuples(st.just("wait"), st.sampled_from([1, 15, 45])),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(actions)
def test_the_points_status_and_its_alarms_state_agree(steps: list[tuple[str, object]]) -> None:
    plant = EventAggregator()
    alarms: list[Alarm] = []
    plant.bus.subscribe(AlarmChanged, lambda e: alarms.append(e.alarm))
    start = now = now_us() - 3600 * S  # the sequence's time stays in the past
    plant.handle(LimitsObserved(LimitsChange("boiler", [H], "test", start)))
    plant.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo("boiler")])))
    seq = 0
    for action, argument in steps:
        now += S
        if action == "read":
            seq += 1
            assert isinstance(argument, float)
            plant.frame_received(Frame("gw", "run1", ["boiler"], [seq], [now], [argument]))
        elif action == "ack" and alarms:
            plant.handle(AckRequested(AckRequest(alarms[-1].id, "ann", now)))
        elif action == "shelve":
            until = None if argument is None else now + int(argument) * S  # type: ignore[call-overload]
            request = HoldRequest("boiler", Level.H, HoldKind.SHELVED, "ann", now, "why", until)
            plant.handle(HoldRequested(request))
        elif action == "hold":
            kind = argument if isinstance(argument, HoldKind) else None
            if kind is not HoldKind.SHELVED:
                request = HoldRequest("boiler", Level.H, kind, "ann", now, "why")
                plant.handle(HoldRequested(request))
        elif action == "wait":
            now += int(argument) * S  # type: ignore[call-overload]
        plant.handle(ClockTicked(now))  # as every round of the coordinator ends
        status = plant.alarms.status_of(POINT)
        latest = alarms[-1] if alarms else None
        if latest is not None and latest.open:
            assert state_of(latest, now) is status.state, (action, argument)
        else:
            assert status.state is AlarmState.NORMAL or status.state in HOLDS
            assert not status.abnormal or status.state in HOLDS or latest is not None


H = AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH, deadband=1.0)


def test_a_timed_shelving_ends_by_itself_and_the_alarm_annunciates_again() -> None:
    plant = EventAggregator()
    now = now_us()
    plant.handle(LimitsObserved(LimitsChange("boiler", [H], "test", now)))
    plant.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo("boiler")])))
    plant.frame_received(Frame("gw", "run1", ["boiler"], [1], [now], [25.0]))
    (alarm,) = plant.alarms.book.values()
    plant.handle(AckRequested(AckRequest(alarm.id, "ann", now + 1)))
    assert state_of(alarm) is AlarmState.ACKED
    shelve = HoldRequest("boiler", Level.H, HoldKind.SHELVED, "ann", now + 2, "why", now + 10 * S)
    plant.handle(HoldRequested(shelve))
    assert state_of(alarm) is AlarmState.SHELVED
    plant.handle(ClockTicked(now + 9 * S))
    assert state_of(alarm) is AlarmState.SHELVED
    plant.handle(ClockTicked(now + 10 * S))
    assert state_of(alarm) is AlarmState.UNACKED, "back from the shelf as new"
    assert alarm.hold is not None and alarm.hold.kind is None and alarm.hold.at == now + 10 * S
    actions = [action.action for action in plant.persister.take().actions]
    assert actions == ["ack", "shelved", "shelving ended"]


def test_a_shelving_longer_than_allowed_is_refused() -> None:
    plant = EventAggregator(max_shelve_s=60.0)
    now = now_us()
    too_long = HoldRequest("boiler", Level.H, HoldKind.SHELVED, "ann", now, "why", now + 61 * S)
    plant.handle(HoldRequested(too_long))
    assert plant.alarms.holds == {}
    fine = HoldRequest("boiler", Level.H, HoldKind.SHELVED, "ann", now, "why", now + 60 * S)
    plant.handle(HoldRequested(fine))
    assert plant.alarms.holds[POINT].until == now + 60 * S


def _defined(*limits: AlarmLimit) -> EventAggregator:
    plant = EventAggregator()
    now = now_us()
    plant.handle(LimitsObserved(LimitsChange("boiler", list(limits), "test", now)))
    plant.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo("boiler", period_s=1.0)])))
    return plant


def test_a_rate_of_change_limit_alarms_on_a_fast_move_either_way() -> None:
    plant = _defined(AlarmLimit("boiler", Level.ROC, 2.0, Priority.MEDIUM, deadband=0.5))
    start = now_us() - 60 * S
    values = [10.0, 11.0, 15.0, 16.0, 17.0, 10.0]  # +1/s, +4/s, +1/s, +1/s, -7/s
    for seq, value in enumerate(values, 1):
        at = start + seq * S
        plant.frame_received(Frame("gw", "run1", ["boiler"], [seq], [at], [value]))
    alarms = list({a.id: a for a in plant.persister.take().alarms}.values())  # one per alarm
    assert [(a.kind.value, a.priority, a.active) for a in alarms] == [
        ("HIGH", Priority.MEDIUM, False),  # +4/s, cleared at +1/s (inside 2 - 0.5)
        ("LOW", Priority.MEDIUM, True),  # -7/s
    ]
    assert alarms[0].peak == 4.0 and alarms[1].peak == -7.0 and alarms[1].limit == -2.0


def test_silence_is_an_alarm_of_its_own_for_a_sensor_whose_definitions_say_so() -> None:
    silent = AlarmLimit("boiler", Level.SILENT, 0.0, Priority.LOW)
    plant = _defined(AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH), silent)
    start = now_us()
    plant.frame_received(Frame("gw", "run1", ["boiler"], [1], [start], [15.0]))
    plant.handle(ClockTicked(start + 4 * S))  # three periods without a reading: STALE
    plant.handle(ClockTicked(start + 4 * S + 300_000))
    (alarm,) = plant.alarms.book.values()
    assert alarm.alarm_level is Level.SILENT and alarm.priority is Priority.LOW
    assert plant.registry.picture.sensors["boiler"].condition.value == "NORMAL"
    plant.frame_received(Frame("gw", "run1", ["boiler"], [2], [start + 5 * S], [15.0]))
    assert not alarm.active, "cleared when the sensor is heard again"
    without = _defined(AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH))
    without.frame_received(Frame("gw", "run1", ["boiler"], [1], [start], [15.0]))
    without.handle(ClockTicked(start + 4 * S))
    without.handle(ClockTicked(start + 4 * S + 300_000))
    assert without.alarms.book == {}, "no SILENT definition: silence is liveness alone"


def test_a_limit_removed_clears_its_active_alarm() -> None:
    plant = _defined(AlarmLimit("boiler", Level.H, 20.0, Priority.HIGH))
    now = now_us()
    plant.frame_received(Frame("gw", "run1", ["boiler"], [1], [now], [25.0]))
    (alarm,) = plant.alarms.book.values()
    plant.handle(LimitsObserved(LimitsChange("boiler", [], "ann", now + 1, "sensor retired")))
    assert not alarm.active and plant.alarms.limits_of("boiler") == ()
