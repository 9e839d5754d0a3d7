"""Connecting to a list of brokers: any that answers will do; none answering is one line."""

from __future__ import annotations

import dataclasses

import pytest

from controlroom.broker.connection import connect
from controlroom.config import Settings
from controlroom.errors import BrokerUnreachable

NOBODY = ("amqp://guest:secret1@127.0.0.1:1/", "amqp://guest:secret2@127.0.0.1:2/")


@pytest.mark.parametrize("order", ["dead first", "dead last"])
async def test_the_one_broker_that_answers_is_found(settings: Settings, order: str) -> None:
    urls = (NOBODY[0], settings.amqp_url)
    if order == "dead last":
        urls = urls[::-1]
    for _ in range(4):  # each attempt starts at a random address
        connection = await connect(dataclasses.replace(settings, amqp_urls=urls), "test")
        try:
            assert not connection.is_closed
            assert connection.connected.is_set()
        finally:
            await connection.close()


async def test_no_broker_answering_is_one_line_naming_each(settings: Settings) -> None:
    with pytest.raises(BrokerUnreachable) as raised:
        await connect(dataclasses.replace(settings, amqp_urls=NOBODY), "test")
    text = str(raised.value)
    assert text.startswith("cannot reach any broker (")
    assert "127.0.0.1:1/" in text and "127.0.0.1:2/" in text
    assert "\n" not in text and "secret" not in text
