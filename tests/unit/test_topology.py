"""Topology names: every source name gives a queue name AMQP clients accept, and distinct ones."""

from hypothesis import given
from hypothesis import strategies as st
from pamqp.constants import DOMAIN_REGEX

from controlroom.broker.topology import Topology, queue_token
from controlroom.errors import InvalidMessage
from controlroom.wire.fields import check_sensor_name

TOPOLOGY = Topology("plant")


def test_plain_names_are_kept() -> None:
    assert TOPOLOGY.readings_queue("boiler_temp-1") == "plant.readings.boiler_temp-1"


def test_markup_and_spaces_are_replaced_and_made_unique() -> None:
    token = queue_token("<img src=x onerror=alert(1)>")
    assert DOMAIN_REGEX["queue-name"].fullmatch(token)
    assert token.startswith("_img_src_x_onerror_alert_1__#")
    assert queue_token("a b") != queue_token("a_b")


@given(st.text(min_size=1, max_size=64))
def test_any_valid_sensor_name_makes_a_valid_queue_name(name: str) -> None:
    try:
        check_sensor_name(name)
    except InvalidMessage:
        return
    queue = TOPOLOGY.readings_queue(name)
    assert DOMAIN_REGEX["queue-name"].fullmatch(queue)
    assert len(queue.encode()) <= 255
