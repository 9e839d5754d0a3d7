"""The viewer feed's edges: bad events are counted and dropped, actions without a broker say why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from controlroom.broker.feed import BrokerState, ViewerFeed
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.errors import ConfigError, NotConnected
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority
from controlroom.plant.alarms import HoldKind
from controlroom.plant.readings import Frame
from controlroom.wire.codec import Decoder, Message, encode
from controlroom.wire.envelopes import AckRequest, HoldRequest


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


def recording() -> tuple[ViewerFeed, list[Message]]:
    """A feed whose requests and actions are decoded and kept instead of published."""
    live = ViewerFeed(Settings(plant="unit", max_shelve_s=3600.0), "viewer", lambda m: None)
    sent: list[Message] = []

    async def publish(body: bytes, reply_to: str | None = None) -> None:
        sent.append(Decoder().decode(body))

    async def act(exchange_of: object, routing_key: str, body: bytes, what: str) -> None:
        sent.append(Decoder().decode(body))  # an operator's action (through `actions`)

    live._publish_request = publish  # type: ignore[method-assign]
    live._act = act  # type: ignore[method-assign]
    return live, sent


async def test_operator_mistakes_are_one_line_before_anything_is_sent() -> None:
    live, sent = recording()
    with pytest.raises(ConfigError, match="up to 1 h"):
        await live.shelve("boiler", Level.H, "ann", "why", for_s=3601.0)
    with pytest.raises(ConfigError, match="a reason is needed"):
        await live.suppress("boiler", Level.H, "ann", " ")
    with pytest.raises(ConfigError, match="needs a reason"):
        await live.change_limits("boiler", [], "ann", "")
    with pytest.raises(ConfigError, match=r"H \(5\) must be below HH \(4\)"):
        limits = [
            AlarmLimit("boiler", Level.H, 5.0, Priority.HIGH),
            AlarmLimit("boiler", Level.HH, 4.0, Priority.CRITICAL),
        ]
        await live.change_limits("boiler", limits, "ann", "tighter")
    with pytest.raises(ConfigError, match="some text"):
        await live.comment("a1", "ann", "  ")
    assert sent == []


async def test_acknowledge_all_is_one_ack_each_and_holds_say_what_they_are() -> None:
    live, sent = recording()
    assert await live.acknowledge_all(["a1", "a2"], "ann", "flood over") == 2
    await live.shelve("boiler", Level.H, "ann", "maintenance", for_s=60.0)
    await live.shelve("boiler", Level.L, "ann", "until it clears", for_s=None)
    await live.release("boiler", Level.H, "ann")
    acks = [m for m in sent if isinstance(m, AckRequest)]
    assert [(a.alarm_id, a.comment) for a in acks] == [("a1", "flood over"), ("a2", "flood over")]
    holds = [m for m in sent if isinstance(m, HoldRequest)]
    assert [(h.kind, h.until is not None) for h in holds] == [
        (HoldKind.SHELVED, True),
        (HoldKind.SHELVED, False),
        (None, False),
    ]
