"""Helpers shared by the tests: waiting on conditions, worker processes, plant clean-up.

An async test never blocks its event loop (the TUI, a viewer feed or a test's own consumer runs
in it): it waits with `wait_for` / `until`, stops workers with `await worker.stopped()`, and
runs anything else that blocks in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import aio_pika

from controlroom.broker.topology import Topology
from controlroom.config import ENV_AMQP_URL_FILE, ENV_DATABASE_URL_FILE, Settings
from controlroom.processes import WorkerProcess
from controlroom.provision import role_settings
from controlroom.roles import SecretsDir
from controlroom.wire.codec import Decoder
from controlroom.wire.envelopes import SourceStates, StatusChanges

T = TypeVar("T")

TEST_PLANT_PREFIX = "t_"


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 20.0, what: str = "condition"
) -> T:
    """Poll an async probe until it returns something truthy, or fail after `timeout` seconds.

    A probe may answer None for "not yet": what comes back is then never None."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def until(
    condition: Callable[[], T | None], what: str = "condition", *, timeout: float = 20.0
) -> T:
    """`wait_for` for a plain condition (the app's state, a worker's log): for async tests."""

    async def probe() -> T | None:
        return condition()

    return await wait_for(probe, timeout=timeout, what=what)


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 20.0, what: str = "condition"
) -> T:
    """The synchronous twin of `wait_for`, for synchronous tests only: it blocks the thread."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# A test's worker is a worker as every starter runs it (controlroom.processes).
Worker = WorkerProcess


async def delete_plant_topology(settings: Settings, extra_queues: Sequence[str] = ()) -> None:
    """Remove a plant's fixed exchanges and queues (and any named extra queues)."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        await Topology.of(settings).delete(await connection.channel(), extra_queues)
    finally:
        await connection.close()


def list_queues(prefix: str) -> list[str]:
    """Queue names on the broker that start with prefix (slow: asks rabbitmqctl)."""
    result = subprocess.run(
        ["rabbitmqctl", "list_queues", "name", "--quiet", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.startswith(prefix)]


@dataclass(frozen=True, slots=True)
class PlantRoles:
    """A test plant whose roles `broker init` made (fixtures `roles`, `shared_roles`)."""

    settings: Settings  # the administrator's (guest, the superuser)
    secrets: SecretsDir

    def of(self, role: str) -> Settings:
        """The settings a process of this role runs with: its URL files."""
        return role_settings(self.settings, self.secrets, role)

    def env(self, role: str) -> dict[str, str]:
        """The environment that gives a worker this role."""
        return {
            ENV_AMQP_URL_FILE: str(self.secrets.amqp_file(role)),
            ENV_DATABASE_URL_FILE: str(self.secrets.database_file(role)),
        }


class EventTap:
    """A viewer on a plant's events exchange that keeps what it hears, for assertions."""

    def __init__(self, settings: Settings, *patterns: str) -> None:
        self.settings = settings
        self.patterns = patterns or ("#",)
        self.received: list[tuple[str, object]] = []
        self.senders: list[str] = []  # each message's app_id (a coordinator's instance)
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def __aenter__(self) -> EventTap:
        decoder = Decoder()
        self._connection = await aio_pika.connect(self.settings.amqp_url)
        channel = await self._connection.channel()
        queue = await Topology.of(self.settings).viewer(channel, *self.patterns)

        async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.received.append((message.routing_key or "", decoder.decode(message.body)))
            self.senders.append(message.app_id or "")

        await queue.consume(keep, no_ack=True)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    def of_type(self, kind: type[T]) -> list[T]:
        """What was heard of one kind, in order; a batch counts as its parts."""
        heard: list[object] = []
        for _, message in self.received:
            if isinstance(message, SourceStates):
                heard.extend(message.sources)
            elif isinstance(message, StatusChanges):
                heard.extend(message.changes)
            else:
                heard.append(message)
        return [event for event in heard if isinstance(event, kind)]


async def scrape(port: int) -> dict[str, float]:
    """A worker's Prometheus metrics, sample name to value (labels ignored, summed)."""
    from prometheus_client.parser import text_string_to_metric_families

    def fetch() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text: str = response.read().decode()
            return text

    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(await asyncio.to_thread(fetch)):
        for sample in family.samples:
            samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
    return samples
