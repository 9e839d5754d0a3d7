"""`python -m bench codec`: the wire format's cost on the hot path, per message.

Every hop decodes every message it takes (the coordinator each frame, the datamanager each
persist batch, every viewer each event), so decoding is the codec's hot path. Each message kind
is decoded (and encoded) as the hops do, and `orjson.loads` of the same bytes is measured in the
same run as the floor: parsing alone, with no validation at all. A hand-written validator has to
parse first and then check in Python, so it costs at least the floor; the ratio says how far the
schema library's validated decode is from it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson

from controlroom.clock import now_us
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.sensors import SensorInfo
from controlroom.wire.codec import Decoder, encode
from controlroom.wire.envelopes import Announce, PersistBatch

GATEWAY_SENSORS = 10_000
BATCH_FRAMES = 10
BATCH_FRAME_SIZE = 2_000
ANNOUNCED = 1_000


def _per_call_us(call: Callable[[], object], budget_s: float) -> float:
    """Median of five timings of as many calls as fit in a fifth of the budget."""
    call()
    rounds = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < budget_s / 5:
            call()
            count += 1
        rounds.append((time.perf_counter() - start) / count * 1e6)
    return sorted(rounds)[2]


def _bodies() -> dict[str, tuple[bytes, Any]]:
    rng = random.Random(1)
    now = now_us()
    names = Layout([f"synthetic-{n:05d}" for n in range(GATEWAY_SENSORS)])
    values = [rng.uniform(0, 100) for _ in range(GATEWAY_SENSORS)]
    frame = Frame("gw", "run1", names, [7] * GATEWAY_SENSORS, [now] * GATEWAY_SENSORS, values)
    tick = Layout(names.names[:BATCH_FRAME_SIZE])
    batch = PersistBatch(
        frames=[
            Frame("gw", "run1", tick, [seq] * len(tick), [now] * len(tick), values[: len(tick)])
            for seq in range(1, BATCH_FRAMES + 1)
        ]
    )
    announce = Announce(
        "gw", "run1", [SensorInfo(n, f"SN-{n}", "C", 5.0, 95.0) for n in names.names[:ANNOUNCED]]
    )
    return {
        f"frame of {GATEWAY_SENSORS:,} readings": (encode(frame), frame),
        f"persist batch of {BATCH_FRAMES} x {BATCH_FRAME_SIZE:,}": (encode(batch), batch),
        f"announce of {ANNOUNCED:,} sensors": (encode(announce), announce),
    }


async def run(duration: float) -> dict[str, Any]:
    budget = max(duration / 9, 0.5)  # three measurements per message kind
    decoder = Decoder()
    kinds = {}
    for kind, (body, message) in _bodies().items():
        decoder.decode(body)  # the layout is now known, as at a hop that ticks along
        floor = _per_call_us(partial(orjson.loads, body), budget)
        decode = _per_call_us(partial(decoder.decode, body), budget)
        fresh = message if not isinstance(message, Frame) else Frame.merge([message])
        encoding = _per_call_us(partial(encode, fresh), budget)
        kinds[kind] = {
            "bytes": len(body),
            "orjson_loads_us": round(floor, 1),
            "decode_us": round(decode, 1),
            "decode_to_parse_ratio": round(decode / floor, 2),
            "encode_us": round(encoding, 1),
        }
    return {"messages": kinds}
