"""The coordinator's fast paths decide exactly as the reading-by-reading rules they skip."""

from __future__ import annotations

import random

from controlroom.clock import now_us
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority, default_limits
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Liveness, SensorInfo
from controlroom.wire.codec import Decoder, encode
from controlroom.wire.envelopes import Announce, LimitsChange, PersistBatch
from tests.unit.alarm_model import ByTheRule
from workers.coordinator.alarms import AlarmMonitor
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import (
    AlarmChanged,
    ClockTicked,
    FrameReceived,
    LimitsObserved,
    LivenessChanged,
    SourceAnnounced,
)
from workers.coordinator.liveness import LivenessMonitor
from workers.coordinator.persistence import Persister
from workers.coordinator.registry import Registry
from workers.coordinator.sequencing import SequenceFilter
from workers.coordinator.viewers import ViewerPublisher

NAMES = ["a", "b", "c"]


def arrived(decoder: Decoder, frame: Frame) -> Frame:
    """The frame as a coordinator receives it: decoded, so a layout seen before is shared (the
    fast paths recognise a layout by identity, as they do in production)."""
    return decoder.decode_as(encode(frame), Frame)


def _reference_fresh(last: dict[str, tuple[str, int]], frame: Frame) -> list[int]:
    """The rule, one reading at a time: a reading is fresh unless its run repeats a seq."""
    keep = []
    for index, (name, seq) in enumerate(zip(frame.names, frame.seqs, strict=True)):
        previous = last.get(name)
        if previous is not None and previous[0] == frame.run and seq <= previous[1]:
            continue
        last[name] = (frame.run, seq)
        keep.append(index)
    return keep


def test_sequence_filter_matches_the_rule_on_random_redeliveries() -> None:
    rng = random.Random(7)
    fast = SequenceFilter()
    decoder = Decoder()
    last: dict[str, tuple[str, int]] = {}
    seqs = dict.fromkeys(NAMES, 0)
    sent: list[Frame] = []
    run = "run1"
    for step in range(3000):
        roll = rng.random()
        if roll < 0.2 and sent:
            frame = rng.choice(sent)  # a redelivery
        else:
            if roll > 0.98:  # the source restarts
                run, seqs = f"run{step}", dict.fromkeys(NAMES, 0)
            names = NAMES if rng.random() < 0.8 else rng.sample(NAMES, 2)
            if rng.random() < 0.1:
                names = [*names, names[0]]  # a sensor twice in one frame
            elif rng.random() < 0.1:
                names = names * rng.randint(2, 4)  # a merged backlog: several ticks
            stamped = []
            for name in names:
                seqs[name] += 1
                stamped.append(seqs[name])
            n = len(names)
            frame = arrived(
                decoder, Frame("gw", run, list(names), stamped, [now_us()] * n, [1.0] * n)
            )
            sent.append(frame)
        expected = _reference_fresh(last, frame)
        fresh = fast.fresh(frame)
        assert fresh.seqs == [frame.seqs[i] for i in expected]
        assert fresh.names == [frame.names[i] for i in expected]


def test_sequence_filter_takes_ticks_of_sensors_that_share_a_seq() -> None:
    sequence = SequenceFilter()
    decoder = Decoder()
    now = now_us()
    tick = arrived(decoder, Frame("gw", "r", NAMES, [1, 1, 1], [now] * 3, [1.0] * 3))
    assert sequence.fresh(tick) is tick
    merged = arrived(decoder, Frame("gw", "r", NAMES * 2, [2, 2, 2, 3, 3, 3], [now] * 6, [1.0] * 6))
    assert merged.ticks_of(tick.layout) == 2
    assert sequence.fresh(merged) is merged
    again = arrived(decoder, Frame("gw", "r", NAMES * 2, [3, 3, 3, 4, 4, 4], [now] * 6, [1.0] * 6))
    assert sequence.fresh(again).seqs == [4, 4, 4]  # the tick seen before is dropped
    stuck = arrived(decoder, Frame("gw", "r", NAMES * 2, [5] * 6, [now] * 6, [1.0] * 6))
    assert sequence.fresh(stuck).seqs == [5, 5, 5]


Ranges = dict[str, tuple[float | None, float | None]]


def _monitored(
    ranges: Ranges, stored: dict[str, list[AlarmLimit]] | None = None
) -> tuple[MessageBus, list[str], ByTheRule]:
    """An alarm monitor that knows the ranges (and stored definitions), the changes it
    announces, and the plain model with the same definitions."""
    bus = MessageBus()
    AlarmMonitor(bus)
    changes: list[str] = []
    bus.subscribe(
        AlarmChanged,
        lambda e: changes.append(f"{e.alarm.sensor}:{e.alarm.alarm_level.value}:{e.change}"),
    )
    for name, limits in (stored or {}).items():
        bus.handle(LimitsObserved(LimitsChange(name, limits, "test", now_us())))
    infos = [SensorInfo(n, safe_min=low, safe_max=high) for n, (low, high) in ranges.items()]
    bus.handle(SourceAnnounced(Announce("gw", "run1", infos)))
    defined = {name: default_limits(name, *ranges[name]) for name in ranges}
    return bus, changes, ByTheRule(defined | (stored or {}))


def test_alarm_fast_path_raises_and_clears_as_the_rule_does() -> None:
    rng = random.Random(11)
    ranges: Ranges = {"a": (10.0, 20.0), "b": (None, 20.0), "c": (None, None)}
    bus, changes, rule = _monitored(ranges)
    decoder = Decoder()
    start = now_us()
    for seq in range(1, 2001):
        values = [rng.uniform(5.0, 25.0) if rng.random() < 0.3 else 15.0 for _ in ranges]
        at = start + seq * 1000
        for name, value in zip(ranges, values, strict=True):
            rule.read(name, value, at)
        frame = arrived(decoder, Frame("gw", "run1", list(ranges), [seq] * 3, [at] * 3, values))
        bus.handle(FrameReceived(frame, frame))
    assert len(rule.changes) > 100
    assert changes == rule.changes


def test_frames_are_passed_on_as_the_bytes_they_arrived_as() -> None:
    bus = MessageBus()
    persister = Persister(bus)
    viewers = ViewerPublisher(bus)
    bus.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo("a"), SensorInfo("b")])))
    sent = Frame("gw", "run1", ["a", "b"], [1, 1], [now_us()] * 2, [1.5, 2.0])
    body = encode(sent)
    received = Decoder().decode(body)
    assert isinstance(received, Frame)
    bus.handle(FrameReceived(received, received))
    built = Frame("gw2", "run2", ["c"], [2], [now_us()], [3.0])  # e.g. down-sampled: no body
    bus.handle(FrameReceived(built, built))
    batch, encoded = persister.take_encoded()
    stored = Decoder().decode(encoded)
    assert isinstance(stored, PersistBatch)
    assert stored.frames == batch.frames == [received, built]
    assert stored.sensors == batch.sensors and len(stored.sensors) == 2
    readings = [event for key, event in viewers.take_encoded() if key.startswith("reading.")]
    assert readings[0] is body and readings == [body, encode(built)]
    assert persister.take_encoded() == (PersistBatch(), b"")


def test_a_sources_frames_of_one_round_reach_viewers_as_one_message() -> None:
    """One message per frame costs as much as a whole gateway frame: a source sending a
    reading per message (a lone fast sensor) gets its round's readings merged, in order."""
    bus = MessageBus()
    viewers = ViewerPublisher(bus)
    now = now_us()
    sent = [Frame("s1", "run1", ["s1"], [seq], [now + seq], [float(seq)]) for seq in (1, 2, 3)]
    other = Frame("s2", "run1", ["s2"], [1], [now], [9.0])
    restarted = Frame("s1", "run2", ["s1"], [1], [now + 4], [4.0])
    for frame in (*sent, other, restarted):
        bus.handle(FrameReceived(frame, frame))
    messages = [(key, Decoder().decode(body)) for key, body in viewers.take_encoded()]
    assert [key for key, _ in messages] == ["reading.s1", "reading.s2", "reading.s1"]
    assert messages[0][1] == Frame.merge(sent)
    assert [m for _, m in messages[1:]] == [other, restarted]


def test_alarm_fast_path_on_merged_ticks_and_changing_layouts() -> None:
    """Per tick bounds, sensors in alarm or waiting out a delay, layouts that change, stored
    definitions with delays: the same as the rule."""
    rng = random.Random(5)
    names = [f"s{n}" for n in range(6)]
    ranges: Ranges = dict.fromkeys(names, (10.0, 20.0))
    ranges["s5"] = (None, None)
    stored = {
        "s0": [
            AlarmLimit("s0", Level.H, 20.0, Priority.HIGH, 1.0, on_delay_s=0.003),
            AlarmLimit("s0", Level.L, 10.0, Priority.LOW, 0.5, off_delay_s=0.004),
        ],
        "s1": [AlarmLimit("s1", Level.HH, 22.0, Priority.CRITICAL, 0.0, 0.002, 0.002)],
    }
    bus, changes, rule = _monitored(ranges, stored)
    decoder = Decoder()
    layout = names
    at = now_us()
    for seq in range(1, 1500):
        if rng.random() < 0.05:
            layout = rng.sample(names, rng.randint(1, len(names)))  # a sensor stopped, say
        ticks = 1 if rng.random() < 0.7 else rng.randint(2, 5)
        frame_names = layout * ticks
        values = [rng.uniform(5.0, 25.0) if rng.random() < 0.2 else 15.0 for _ in frame_names]
        times = []
        for index, (name, value) in enumerate(zip(frame_names, values, strict=True)):
            moment = at + (index // len(layout)) * 1000
            rule.read(name, value, moment)
            times.append(moment)
        at = times[-1] + 1000
        count = len(frame_names)
        frame = arrived(decoder, Frame("gw", "run1", frame_names, [seq] * count, times, values))
        bus.handle(FrameReceived(frame, frame))
    assert len(rule.changes) > 100
    assert changes == rule.changes


def test_registry_shows_each_sensors_latest_reading_whatever_the_frames() -> None:
    rng = random.Random(3)
    bus = MessageBus()
    registry = Registry(bus)
    names = [f"s{n}" for n in range(5)]
    bus.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo(n) for n in names])))
    decoder = Decoder()
    latest: dict[str, float] = {}
    layout = names
    for step in range(2000):
        if rng.random() < 0.05:
            layout = rng.sample(names, rng.randint(1, len(names)))
        frame_names = layout * (1 if rng.random() < 0.8 else rng.randint(2, 3))
        values = [rng.random() for _ in frame_names]
        latest.update(zip(frame_names, values, strict=True))
        count = len(frame_names)
        sent = Frame("gw", "run1", frame_names, [step + 1] * count, [now_us()] * count, values)
        frame = arrived(decoder, sent)
        bus.handle(FrameReceived(frame, frame))
        if rng.random() < 0.05:  # somebody asks for a snapshot now and then
            assert {n: s.value for n, s in registry.picture.sensors.items()} == latest
    assert {n: s.value for n, s in registry.picture.sensors.items()} == latest


def test_liveness_judges_each_sensor_of_a_gateway_that_ticks() -> None:
    bus = MessageBus()
    LivenessMonitor(bus)
    statuses: list[tuple[str, Liveness]] = []
    bus.subscribe(LivenessChanged, lambda e: statuses.append((e.sensor, e.liveness)))
    infos = [SensorInfo(n, period_s=1.0) for n in ("a", "b")]
    bus.handle(SourceAnnounced(Announce("gw", "run1", infos)))
    start = now_us()
    decoder = Decoder()
    both = ["a", "b"]
    for seq in range(1, 4):  # the same layout again and again: the cached path
        frame = arrived(decoder, Frame("gw", "run1", both, [seq] * 2, [start] * 2, [1.0] * 2))
        bus.handle(FrameReceived(frame, frame))
    only_a = ["a"]  # b was stopped somewhere, without a goodbye
    frame = arrived(decoder, Frame("gw", "run1", only_a, [4], [start], [1.0]))
    bus.handle(FrameReceived(frame, frame))
    bus.handle(ClockTicked(now_us() + 2_000_000))
    assert statuses[-2:] == [("a", Liveness.LIVE), ("b", Liveness.LIVE)]  # nothing stale yet
    bus.handle(ClockTicked(now_us() + 3_500_000))
    assert statuses[-2:] == [("a", Liveness.STALE), ("b", Liveness.STALE)]
    frame = arrived(decoder, Frame("gw", "run1", only_a, [5], [start], [1.0]))
    bus.handle(FrameReceived(frame, frame))
    assert statuses[-1] == ("a", Liveness.LIVE)
    frame = arrived(decoder, Frame("gw", "run1", only_a, [6], [start], [1.0]))
    bus.handle(FrameReceived(frame, frame))  # cached: a is known LIVE, no event
    assert statuses[-1] == ("a", Liveness.LIVE) and len(statuses) == 5


def test_alarm_fast_path_catches_up_a_wide_source_by_the_sensors_changed() -> None:
    """A wide source with a few sensors entering and leaving alarm each tick: its bounds are
    brought up to date by the places of the sensors that changed (not made afresh), and the
    changes are those of the rule; merged ticks and a layout change now and then too."""
    rng = random.Random(23)
    names = [f"w{n:02d}" for n in range(64)]
    ranges: Ranges = dict.fromkeys(names, (10.0, 20.0))
    stored = {"w00": [AlarmLimit("w00", Level.H, 20.0, Priority.HIGH, 1.0, on_delay_s=0.002)]}
    bus, changes, rule = _monitored(ranges, stored)
    decoder = Decoder()
    layout, at = names, now_us() - 60_000_000
    for seq in range(1, 800):
        if rng.random() < 0.01:
            layout = rng.sample(names, 60)
        ticks = 1 if rng.random() < 0.8 else 3
        frame_names = layout * ticks
        values = [rng.uniform(5.0, 25.0) if rng.random() < 0.03 else 15.0 for _ in frame_names]
        times = [at + (index // len(layout)) * 1000 for index in range(len(frame_names))]
        for name, value, moment in zip(frame_names, values, times, strict=True):
            rule.read(name, value, moment)
        at = times[-1] + 1000
        count = len(frame_names)
        frame = arrived(decoder, Frame("gw", "run1", frame_names, [seq] * count, times, values))
        bus.handle(FrameReceived(frame, frame))
    assert len(rule.changes) > 500
    assert changes == rule.changes
