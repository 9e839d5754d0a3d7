"""`scripts/cluster` as a person runs it: status, stop, start, a half-started cluster, bad input."""

from __future__ import annotations

import asyncio
import re
import secrets
from urllib.parse import urlsplit

import aio_pika
import psutil
import pytest

from devsupport.cluster import SCRIPT, LocalCluster
from tests.conftest import TEST_AMQP_URL

NODE_URL = re.compile(r"amqp://guest:guest@127\.0\.0\.1:568[1-3]/")


async def script(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def machine_broker_pid() -> int | None:
    """The PID listening on the machine's own broker port (the tests' default broker)."""
    address = urlsplit(TEST_AMQP_URL)
    for connection in psutil.net_connections(kind="tcp"):
        listening = connection.laddr if connection.status == psutil.CONN_LISTEN else ()
        if listening and listening.port == address.port:  # () where there is no address
            pid: int | None = connection.pid
            return pid
    return None


async def logs_in(url: str) -> bool:
    connection = await aio_pika.connect(url, timeout=10)
    await connection.close()
    return True


@pytest.mark.cluster
async def test_status_lists_each_node_and_none_after_stop(cluster: LocalCluster) -> None:
    machine_pid = machine_broker_pid()
    assert machine_pid is not None, "the machine's own broker should be running"

    status, out, _ = await script("status")
    urls = out.splitlines()
    assert status == 0
    assert len(urls) == 3 and len(set(urls)) == 3
    assert all(NODE_URL.fullmatch(url) for url in urls), urls
    for url in urls:
        assert await logs_in(url)  # guest over loopback, on each node
    assert await cluster.running_members(via=1) == {1, 2, 3}

    await cluster.stop()
    status, out, _ = await script("status")
    assert (status, out) == (1, "")
    assert {node.state for node in await cluster.nodes()} == {"down"}

    assert len(await cluster.start()) == 3
    assert await cluster.running_members(via=3) == {1, 2, 3}
    assert machine_broker_pid() == machine_pid  # the machine's node: not stopped, not restarted
    assert await logs_in(TEST_AMQP_URL)


@pytest.mark.cluster
async def test_start_completes_a_half_started_cluster(cluster: LocalCluster) -> None:
    vm_pids = {n: await cluster.ctl(n, "eval", "os:getpid().") for n in (1, 2, 3)}
    await cluster.kill_node(2)
    assert [node.state for node in await cluster.nodes()] == ["serving", "down", "serving"]

    assert len(await cluster.start()) == 3
    assert await cluster.running_members(via=1) == {1, 2, 3}
    assert await cluster.ctl(1, "eval", "os:getpid().") == vm_pids[1]  # left as it was
    assert await cluster.ctl(3, "eval", "os:getpid().") == vm_pids[3]
    assert await cluster.ctl(2, "eval", "os:getpid().") != vm_pids[2]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "no command given"),
        (("restart",), "unknown command 'restart'"),
        (("kill-node", "4"), "a node is 1, 2 or 3 (got '4')"),
        (("stop-node",), "stop-node takes one node number"),
        (("status", "now"), "status takes no arguments"),
    ],
)
async def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], error: str) -> None:
    status, out, err = await script(*args)
    assert status == 2
    assert out == ""
    assert err.splitlines() == [f"error: {error} (see scripts/cluster --help)"]


async def test_help_names_every_command() -> None:
    status, out, _ = await script("--help")
    assert status == 0
    for command in ("start", "stop", "status", "start-node N", "stop-node N", "kill-node N"):
        assert f"  {command} " in out


@pytest.mark.cluster
async def test_nodes_have_the_consistent_hash_exchange(cluster: LocalCluster) -> None:
    connection = await aio_pika.connect(await cluster.url(2))
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            f"t_{secrets.token_hex(5)}.hash", "x-consistent-hash", auto_delete=True
        )
        await exchange.delete()
    finally:
        await connection.close()


@pytest.mark.cluster
async def test_nodes_share_the_cores_with_unbound_schedulers(cluster: LocalCluster) -> None:
    # Three nodes on one machine: each runs its share of the cores (at least one scheduler),
    # none bound to a core; RabbitMQ's defaults would be a scheduler per core, each bound.
    share = max(1, (psutil.cpu_count() or 1) // 3)
    for number in (1, 2, 3):
        answer = await cluster.ctl(
            number,
            "eval",
            "{erlang:system_info(schedulers_online), erlang:system_info(scheduler_bind_type)}.",
        )
        assert answer.strip() == f"{{{share},unbound}}", (number, answer)
