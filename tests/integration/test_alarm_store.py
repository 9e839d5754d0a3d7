"""The alarm as PostgreSQL stores it: the `open` column (sql/021) says what `Alarm.open` says for
every combination of clear, acknowledgement and hold, an alarm read back is the alarm written
(hold and comments included), and copies stored in any order merge as `Alarm.absorb` does."""

from __future__ import annotations

import itertools
import random

import asyncpg
import msgspec

from controlroom.clock import now_us
from controlroom.db.history import open_alarms
from controlroom.db.writer import BatchWriter
from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.alarms import Alarm, Comment, Hold, HoldKind
from controlroom.plant.sensors import Condition
from controlroom.wire.envelopes import PersistBatch

S = 1_000_000


def combinations(t0: int) -> list[Alarm]:
    alarms = []
    clears = [None, t0 + 10 * S]
    acks = [None, t0 + 5 * S, t0 + 30 * S]
    holds: list[tuple[HoldKind | None, int, int | None] | None] = [None]
    for kind in (None, *HoldKind):
        for at in (t0 + 2 * S, t0 + 20 * S):
            untils = [None, at + 5 * S, at + 3600 * S] if kind is HoldKind.SHELVED else [None]
            holds += [(kind, at, until) for until in untils]
    for number, (cleared, acked, hold) in enumerate(itertools.product(clears, acks, holds)):
        alarms.append(
            Alarm(
                f"a{number}",
                "boiler",
                Condition.HIGH,
                t0,
                9.0,
                8.0,
                9.5,
                cleared_at=cleared,
                acked_at=acked,
                acked_by=None if acked is None else "ann",
                level=Level.HH,
                priority=Priority.CRITICAL,
                hold=None
                if hold is None
                else Hold("boiler", Level.HH, hold[0], hold[1], "bob", "why", hold[2]),
                comments=[Comment(t0 + S, "ann", "looked at it")] if number % 3 == 0 else [],
            )
        )
    return alarms


async def test_the_open_column_says_what_alarm_open_says(db: asyncpg.Connection) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    alarms = combinations(now_us() - 7200 * S)
    await writer.write([PersistBatch(alarms=alarms)])
    stored = dict(await db.fetch("SELECT id, open FROM alarm"))
    assert stored == {alarm.id: alarm.open for alarm in alarms}
    assert any(stored.values()) and not all(stored.values())
    read = {alarm.id: alarm for alarm in await open_alarms(db, 10_000)}
    assert read == {alarm.id: alarm for alarm in alarms if alarm.open}


async def test_copies_stored_in_any_order_merge_as_absorb_does(db: asyncpg.Connection) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    t0 = now_us() - 7200 * S
    base = Alarm("m1", "boiler", Condition.HIGH, t0, 9.0, 8.0, 9.0, level=Level.H)
    shelf = Hold("boiler", Level.H, HoldKind.SHELVED, t0 + 3 * S, "bob", "why", t0 + 600 * S)
    copies = [
        base,
        msgspec.structs.replace(base, peak=9.7),
        msgspec.structs.replace(base, acked_at=t0 + 2 * S, acked_by="ann"),
        msgspec.structs.replace(base, hold=shelf, comments=[Comment(t0 + S, "ann", "hm")]),
        msgspec.structs.replace(
            base, hold=Hold("boiler", Level.H, None, t0 + 9 * S, "bob", "done"), peak=9.2
        ),
        msgspec.structs.replace(base, cleared_at=t0 + 20 * S),
    ]
    for seed in range(4):
        order = copies[:]
        random.Random(seed).shuffle(order)
        await db.execute("DELETE FROM alarm")
        for copy in order:
            await writer.write([PersistBatch(alarms=[copy])])
        merged = msgspec.structs.replace(order[0])
        for copy in order[1:]:
            merged.absorb(copy)
        (row,) = await db.fetch("SELECT id, open FROM alarm")
        stored = await open_alarms(db)
        assert row["open"] is merged.open
        assert stored == ([merged] if merged.open else [])
