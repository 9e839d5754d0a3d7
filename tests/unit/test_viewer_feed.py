"""The viewer feed's edges: bad events are counted and dropped, actions without a broker say why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from controlroom.broker.feed import BrokerState, ViewerFeed
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.errors import NotConnected
from controlroom.plant.readings import Frame
from controlroom.wire.codec import Message, encode


def feed() -> tuple[ViewerFeed, list[Message], list[BrokerState]]:
    messages: list[Message] = []
    states: list[BrokerState] = []
    live = ViewerFeed(Settings(plant="unit"), "viewer", messages.append, states.append)
    return live, messages, states


def delivery(body: bytes) -> Any:
    return SimpleNamespace(body=body, routing_key="reading.x")


async def test_good_events_pass_and_bad_ones_are_counted() -> None:
    live, messages, _ = feed()
    await live._deliver(delivery(encode(Frame("x", "r", ["x"], [1], [now_us()], [1.5]))))
    await live._deliver(delivery(b"{not json"))
    await live._deliver(delivery(b'{"type": "frame", "names": "x"}'))
    assert len(messages) == 1 and isinstance(messages[0], Frame)
    assert live.bad_messages == 2


async def test_actions_need_the_broker() -> None:
    live, _, _ = feed()
    with pytest.raises(
        NotConnected, match="not connected to the broker at amqp://guest:\\*\\*\\*@"
    ):
        await live.acknowledge("alarm-1", "ann")
    with pytest.raises(NotConnected):
        await live.stop_sensor("s1", "ann")
