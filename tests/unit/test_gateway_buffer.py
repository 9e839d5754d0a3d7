"""The gateway's bounded buffer: order kept, oldest dropped first, drops counted."""

from controlroom.clock import now_us
from controlroom.plant.readings import Frame
from workers.gateway import Buffer

NOW = now_us()


def frame(seq: int, sensors: int = 2) -> Frame:
    names = [f"s{n}" for n in range(sensors)]
    return Frame("gw", "r", names, [seq] * sensors, [NOW + seq] * sensors, [1.0] * sensors)


async def test_take_and_put_back_keep_order() -> None:
    buffer = Buffer(limit=100)
    for seq in range(1, 6):
        buffer.append(frame(seq))
    taken = buffer.take(most=4)
    assert [f.seqs[0] for f in taken] == [1, 2]
    assert buffer.in_flight == 4
    assert not buffer.drained.is_set()
    buffer.put_back(taken)
    assert [f.seqs[0] for f in buffer.frames] == [1, 2, 3, 4, 5]
    assert buffer.readings == 10


async def test_take_returns_at_least_one_frame_even_if_large() -> None:
    buffer = Buffer(limit=100)
    buffer.append(frame(1, sensors=10))
    assert len(buffer.take(most=3)) == 1


async def test_overflow_drops_the_oldest_and_counts_per_sensor() -> None:
    buffer = Buffer(limit=6)
    for seq in range(1, 6):
        buffer.append(frame(seq))
    assert [f.seqs[0] for f in buffer.frames] == [3, 4, 5]
    assert buffer.dropped == {"s0": 2, "s1": 2}
    assert buffer.overflowing


async def test_drained_only_after_confirm_of_everything() -> None:
    buffer = Buffer(limit=100)
    assert buffer.drained.is_set()
    buffer.append(frame(1))
    assert not buffer.drained.is_set()
    buffer.take(most=100)
    buffer.confirmed()
    assert buffer.drained.is_set()
