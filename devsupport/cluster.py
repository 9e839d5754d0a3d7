"""The local three-node RabbitMQ cluster of `scripts/cluster`, driven from Python.

The script is the one home of the cluster's layout (node names, ports, directories, cookie):
this module runs it and reads what it prints, so the tests and the bench see exactly what a
person at the command line sees. Every call waits for the script, which itself waits with
deadlines (a node booted, a node gone); a script that fails raises `ClusterError` with its
one-line error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from controlroom.broker.roles import Rabbitmqctl

log = logging.getLogger(__name__)

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "cluster"
ENV_CLUSTER_DIR = "CONTROLROOM_CLUSTER_DIR"
SCRIPT_TIMEOUT_S = 300.0  # the script's own deadlines are shorter: this only catches a hang
QUEUE_COLUMNS = ("name", "type", "leader", "members", "online")


class ClusterError(RuntimeError):
    """`scripts/cluster` failed; the message is its own one-line error."""


@dataclass(frozen=True, slots=True)
class Node:
    """One line of `scripts/cluster nodes`."""

    number: int
    name: str
    url: str
    state: str  # serving, starting or down


@dataclass(frozen=True, slots=True)
class QuorumQueue:
    """Where a quorum queue's replicas are, by node number."""

    name: str
    leader: int | None
    members: frozenset[int]
    online: frozenset[int]


class LocalCluster:
    """The cluster in `directory` (default: the script's own, var/cluster in the checkout).

    Another layout (a lone node with a TLS listener, say) is the script's own variables: so
    many nodes, named `prefix` and a number, every port moved up by `port_offset`, and AMQP
    over TLS only with the certificates in `tls_dir` (ca.pem, server.pem, server.key), or
    with a plain listener beside it (`plain_too`, `plain_urls`).
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        nodes: int | None = None,
        prefix: str | None = None,
        port_offset: int | None = None,
        tls_dir: Path | None = None,
        plain_too: bool = False,
    ) -> None:
        self._env = dict(os.environ)
        for name, value in (
            (ENV_CLUSTER_DIR, directory),
            ("CONTROLROOM_CLUSTER_NODES", nodes),
            ("CONTROLROOM_CLUSTER_PREFIX", prefix),
            ("CONTROLROOM_CLUSTER_PORT_OFFSET", port_offset),
            ("CONTROLROOM_CLUSTER_TLS_DIR", tls_dir),
            ("CONTROLROOM_CLUSTER_PLAIN_TOO", "1" if plain_too else None),
        ):
            if value is not None:
                self._env[name] = str(value)
        self._names: dict[str, int] = {}

    async def start(self) -> list[str]:
        """Start what is not running (the whole cluster from nothing); the nodes' AMQP URLs."""
        await self._run("start")
        return await self.urls()

    async def stop(self) -> None:
        """Stop every node of this cluster gracefully; returns once they are gone."""
        await self._run("stop")

    async def urls(self) -> list[str]:
        """`scripts/cluster status`: one AMQP URL per node serving, none if none is."""
        status, out = await self._run("status", allowed=(0, 1))
        return out.split() if status == 0 else []

    async def plain_urls(self) -> list[str]:
        """`scripts/cluster plain-status`: the plain AMQP URLs beside TLS ones (`plain_too`)."""
        status, out = await self._run("plain-status", allowed=(0, 1))
        return out.split() if status == 0 else []

    async def nodes(self) -> list[Node]:
        _, out = await self._run("nodes")
        nodes = []
        for line in out.splitlines():
            number, name, url, state = line.split("\t")
            nodes.append(Node(int(number), name, url, state))
        self._names = {node.name: node.number for node in nodes}
        return nodes

    async def url(self, number: int) -> str:
        """Node `number`'s AMQP URL, whether it runs or not."""
        for node in await self.nodes():
            if node.number == number:
                return node.url
        raise ValueError(f"no node {number} in the cluster")

    async def start_node(self, number: int) -> None:
        """Start one node; returns once it is a running member of the cluster again."""
        await self._run("start-node", str(number))

    async def stop_node(self, number: int) -> None:
        """Stop one node gracefully (rabbitmqctl stop); returns once its VM is gone."""
        await self._run("stop-node", str(number))

    async def kill_node(self, number: int) -> None:
        """kill -9 one node's Erlang VM; returns once it is gone."""
        await self._run("kill-node", str(number))

    async def ctl(self, number: int, *args: str) -> str:
        """rabbitmqctl ARGS against node `number` (and only it); its output."""
        _, out = await self._run("ctl", str(number), *args)
        return out

    def rabbitmqctl(self, number: int = 1) -> Rabbitmqctl:
        """`broker init`'s tool against node `number`, through the script (its own cookie):
        users and permissions are the whole cluster's, so one node is enough."""
        return Rabbitmqctl(command=(str(SCRIPT), "ctl", str(number)), env=self._env)

    async def running_members(self, via: int) -> frozenset[int]:
        """The nodes that node `via` counts as running members of its cluster."""
        status = orjson.loads(await self.ctl(via, "cluster_status", "--formatter", "json"))
        return await self._numbers(status["running_nodes"])

    async def quorum_queue(self, name: str, via: int) -> QuorumQueue | None:
        """A quorum queue's leader and replicas as node `via` sees them; None if it has none."""
        rows: list[dict[str, Any]] = orjson.loads(
            await self.ctl(via, "list_queues", *QUEUE_COLUMNS, "--formatter", "json")
        )
        for row in rows:
            if row["name"] == name and row["type"] == "quorum":
                leader = await self._numbers([row["leader"]]) if row.get("leader") else None
                return QuorumQueue(
                    name=name,
                    leader=next(iter(leader)) if leader else None,
                    members=await self._numbers(row.get("members") or []),
                    online=await self._numbers(row.get("online") or []),
                )
        return None

    async def _numbers(self, names: list[str]) -> frozenset[int]:
        if not self._names or any(name not in self._names for name in names):
            await self.nodes()
        return frozenset(self._names[name] for name in names if name in self._names)

    async def _run(self, *args: str, allowed: tuple[int, ...] = (0,)) -> tuple[int, str]:
        """Run the script; its progress lines go to the log, its output comes back."""
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), SCRIPT_TIMEOUT_S)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        progress = err.decode(errors="replace").splitlines()
        for line in progress:
            log.info("scripts/cluster %s: %s", args[0], _plain(line))
        status = process.returncode
        assert status is not None
        if status not in allowed:
            reason = _plain(progress[-1]) if progress else f"exit status {status}"
            raise ClusterError(f"scripts/cluster {' '.join(args)}: {reason}")
        return status, out.decode()


def _plain(line: str) -> str:
    """A progress line without the terminal's bold."""
    return line.replace("\033[1m", "").replace("\033[0m", "").removeprefix("==> ")
