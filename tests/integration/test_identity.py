"""Who acted is what the broker vouches for: an operator's actions carry its login as
`user_id`, which RabbitMQ checks against the connection's user; the coordinator records that
login, never a name the sender typed. And a role refused at start exits 2 with one line, while
a refusal at run time costs one log line and the process goes on."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Callable

import aio_pika
import aiormq
import asyncpg
import pytest

from controlroom.broker.feed import ViewerFeed
from controlroom.broker.publishing import json_message
from controlroom.broker.topology import Topology
from controlroom.clock import now_us
from controlroom.config import ENV_PLANT
from controlroom.errors import ActionRefused
from controlroom.plant.alarms import Alarm
from controlroom.wire.codec import Message, encode
from controlroom.wire.envelopes import AckRequest, AlarmEvent
from tests.support import PlantRoles, Worker, until, wait_for


async def test_a_forged_identity_is_refused_by_the_broker(shared_roles: PlantRoles) -> None:
    ann = shared_roles.of("ann")
    connection = await aio_pika.connect(ann.amqp_url)
    try:
        channel = await connection.channel()
        actions = await channel.get_exchange(Topology(ann.plant).actions_exchange, ensure=False)
        forged = json_message(
            encode(AckRequest("a1", "bob", now_us())),
            persistent=False,
            user_id=f"{ann.plant}.bob",
        )
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed, match="user_id"):
            await actions.publish(forged, routing_key="", timeout=10)
        assert not connection.is_closed  # one channel closed, not the connection
    finally:
        await connection.close()


async def test_a_viewer_ack_is_refused_in_one_line_and_the_viewer_goes_on(
    shared_roles: PlantRoles, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = ViewerFeed(shared_roles.of("viewer"), "viewer", lambda message: None)
    await viewer.start()
    try:
        with caplog.at_level(logging.WARNING, "controlroom.broker.feed"):
            with pytest.raises(ActionRefused, match="ACCESS_REFUSED"):
                await viewer.acknowledge("a1", "mallory")
            with pytest.raises(ActionRefused, match="ACCESS_REFUSED"):
                await viewer.stop_sensor("s1", "mallory")
        refusals = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(refusals) == 2, [r.getMessage() for r in refusals]
        assert viewer.connected
        await viewer._publish_request(b'{"type": "snapshot_request"}')  # still works
    finally:
        await viewer.close()


async def test_anns_ack_is_stored_as_ann_and_seen_as_ann(
    roles: PlantRoles, start_worker: Callable[..., Worker], db: asyncpg.Connection
) -> None:
    start_worker("coordinator", env=roles.env("coordinator"))
    start_worker("datamanager", env=roles.env("datamanager"))
    start_worker(
        "sensor", "--name", "hot_probe", "--min", "10", "--max", "11", "--step", "0.1",
        "--freq", "5", "--safe-min", "0", "--safe-max", "5", env=roles.env("sensor"),
    )  # fmt: skip
    seen: list[Alarm] = []

    def heard(message: Message) -> None:
        if isinstance(message, AlarmEvent):
            seen.append(message.alarm)

    viewer = ViewerFeed(roles.of("viewer"), "viewer", heard)
    ann = ViewerFeed(roles.of("ann"), "controlroom", lambda message: None)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(viewer.run()), group.create_task(ann.run())]
        alarm = await until(lambda: next(iter(seen), None), "the alarm at the viewer")
        await until(lambda: ann.connected, "ann's control room connected")
        await ann.acknowledge(alarm.id, "Ann the shift lead")  # a display name only

        async def stored() -> asyncpg.Record | None:
            return await db.fetchrow(
                "SELECT acked_by FROM alarm WHERE id = $1 AND acked_at IS NOT NULL", alarm.id
            )

        row = await wait_for(stored, what="the acknowledgement stored")
        assert row is not None and row["acked_by"] == "ann"

        async def logged() -> list[str]:
            rows = await db.fetch("SELECT operator FROM action_log WHERE action = 'ack'")
            return [r["operator"] for r in rows]

        assert await wait_for(logged, what="the action logged") == ["ann"]
        await until(
            lambda: any(a.id == alarm.id and a.acked_by == "ann" for a in seen),
            "the viewer to see ann's acknowledgement",
        )
        for task in tasks:
            task.cancel()


def run_worker(roles: PlantRoles, role: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | roles.env(role) | {ENV_PLANT: roles.settings.plant},
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("role", "worker"),
    [("sensor", "datamanager"), ("viewer", "coordinator"), ("datamanager", "sensor")],
)
def test_a_worker_under_the_wrong_role_exits_2_in_one_line(
    shared_roles: PlantRoles, role: str, worker: str
) -> None:
    extra = ("--name", "wrong_role") if worker == "sensor" else ()
    result = run_worker(shared_roles, role, worker, *extra)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1 and "ACCESS_REFUSED" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
