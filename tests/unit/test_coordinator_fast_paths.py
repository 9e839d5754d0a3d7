"""The coordinator's fast paths decide exactly as the reading-by-reading rules they skip."""

from __future__ import annotations

import random

from controlroom.alarms import SafeRange
from controlroom.messages import (
    Announce,
    Condition,
    Frame,
    PersistBatch,
    SensorInfo,
    decode,
    encode,
    now_us,
)
from workers.coordinator.alarms import AlarmMonitor
from workers.coordinator.bus import MessageBus
from workers.coordinator.events import AlarmChanged, FrameReceived, SourceAnnounced
from workers.coordinator.persistence import Persister
from workers.coordinator.sequencing import SequenceFilter
from workers.coordinator.viewers import ViewerPublisher

NAMES = ["a", "b", "c"]


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
                names = [*names, names[0]]  # a merged backlog repeats a sensor
            stamped = []
            for name in names:
                seqs[name] += 1
                stamped.append(seqs[name])
            n = len(names)
            frame = Frame("gw", run, list(names), stamped, [now_us()] * n, [1.0] * n)
            sent.append(frame)
        expected = _reference_fresh(last, frame)
        fresh = fast.fresh(frame)
        assert fresh.seqs == [frame.seqs[i] for i in expected]
        assert fresh.names == [frame.names[i] for i in expected]


def test_alarm_fast_path_raises_and_clears_as_the_rule_does() -> None:
    rng = random.Random(11)
    bus = MessageBus()
    AlarmMonitor(bus)
    changes: list[str] = []
    bus.subscribe(AlarmChanged, lambda e: changes.append(f"{e.alarm.sensor}:{e.change}"))
    ranges = {"a": SafeRange(10.0, 20.0), "b": SafeRange(None, 20.0), "c": SafeRange(None, None)}
    infos = [SensorInfo(n, safe_min=r.low, safe_max=r.high) for n, r in ranges.items()]
    bus.handle(SourceAnnounced(Announce("gw", "run1", infos)))
    conditions = dict.fromkeys(ranges, Condition.NORMAL)
    expected = []
    for seq in range(1, 2001):
        values = [rng.uniform(5.0, 25.0) if rng.random() < 0.3 else 15.0 for _ in ranges]
        for name, value in zip(ranges, values, strict=True):
            before = conditions[name]
            after = ranges[name].evaluate(before, value) if name != "c" else before
            if after is not before:
                if before is not Condition.NORMAL:
                    expected.append(f"{name}:cleared")
                if after is not Condition.NORMAL:
                    expected.append(f"{name}:raised")
            conditions[name] = after
        frame = Frame("gw", "run1", list(ranges), [seq] * 3, [now_us()] * 3, values)
        bus.handle(FrameReceived(frame, frame))
    assert len(expected) > 100
    assert changes == expected


def test_frames_are_passed_on_as_the_bytes_they_arrived_as() -> None:
    bus = MessageBus()
    persister = Persister(bus)
    viewers = ViewerPublisher(bus)
    bus.handle(SourceAnnounced(Announce("gw", "run1", [SensorInfo("a"), SensorInfo("b")])))
    sent = Frame("gw", "run1", ["a", "b"], [1, 1], [now_us()] * 2, [1.5, 2.0])
    body = encode(sent)
    received = decode(body)
    assert isinstance(received, Frame)
    bus.handle(FrameReceived(received, received, body))
    built = Frame("gw", "run1", ["a"], [2], [now_us()], [3.0])  # e.g. down-sampled: no body
    bus.handle(FrameReceived(built, built))
    batch, encoded = persister.take_encoded()
    stored = decode(encoded)
    assert isinstance(stored, PersistBatch)
    assert stored.frames == batch.frames == [received, built]
    assert stored.sensors == batch.sensors and len(stored.sensors) == 2
    readings = [event for key, event in viewers.take_encoded() if key.startswith("reading.")]
    assert readings == [body, encode(built)]
    assert persister.take_encoded() == (PersistBatch(), b"")
