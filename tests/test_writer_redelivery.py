"""The writer's fast COPY path falls back to skipping repeats when a batch is redelivered."""

from __future__ import annotations

import asyncpg

from controlroom.clock import now_us
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import PersistBatch


def _frame(run: str, first_seq: int, count: int, start: int) -> Frame:
    names = ["w1", "w2"]
    seqs, times, values, sensors = [], [], [], []
    for n in range(count):
        for name in names:
            sensors.append(name)
            seqs.append(first_seq + n)
            times.append(start + (first_seq + n) * 1000)
            values.append(float(n))
    return Frame("wgw", run, sensors, seqs, times, values)


async def test_a_redelivered_batch_stores_each_reading_once(db: asyncpg.Connection) -> None:
    writer = BatchWriter(db)
    await writer.prepare()
    start = now_us() - 60_000_000
    first = PersistBatch(frames=[_frame("r1", 1, 50, start)])
    assert await writer.write([first]) == 100
    # A redelivery of the first batch together with new readings: the repeats are skipped.
    again = PersistBatch(frames=[_frame("r1", 1, 50, start), _frame("r1", 51, 25, start)])
    assert await writer.write([again]) == 150
    rows = await db.fetch(
        "SELECT s.name, count(*) AS n, count(DISTINCT r.seq) AS seqs, max(r.seq) AS last "
        "FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id GROUP BY s.name ORDER BY 1"
    )
    assert [(r["name"], r["n"], r["seqs"], r["last"]) for r in rows] == [
        ("w1", 75, 75, 75),
        ("w2", 75, 75, 75),
    ]
    taken = await db.fetchval(
        "SELECT (extract(epoch FROM min(taken_on)) * 1000000)::int8 FROM sensor_reading"
    )
    assert taken == start + 1000  # times stored as sent, on either path


async def test_every_column_is_stored_as_sent(db: asyncpg.Connection) -> None:
    """Binary COPY rows: shared and per-reading columns, merged ticks, and new layouts."""
    writer = BatchWriter(db)
    await writer.prepare()
    start = now_us() - 60_000_000
    tick = Frame("cgw", "r1", ["a", "b", "c"], [1, 1, 1], [start] * 3, [1.5, -2.25, 1e300])
    merged = Frame.merge(
        [
            Frame("cgw", "r1", tick.names, [2, 2, 2], [start + 7] * 3, [0.0, 3.0, -0.5]),
            Frame("cgw", "r1", tick.names, [3, 3, 3], [start + 9] * 3, [4.0, 5.0, 6.0]),
        ]
    )
    other = Frame("cgw", "r1", ["c", "a"], [4, 4], [start + 11, start + 12], [7.0, 8.0])
    assert await writer.write([PersistBatch(frames=[tick, merged, other])]) == 11
    rows = await db.fetch(
        "SELECT s.name, r.seq, (extract(epoch FROM r.taken_on) * 1000000)::int8 AS t, r.value "
        "FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id ORDER BY r.seq, s.name"
    )
    sent = [
        (name, seq, taken_on, value)
        for frame in (tick, merged, other)
        for name, seq, taken_on, value in zip(
            frame.names, frame.seqs, frame.taken_on, frame.values, strict=True
        )
    ]
    assert [tuple(row) for row in rows] == sorted(sent, key=lambda r: (r[1], r[0]))
