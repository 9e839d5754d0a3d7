"""The harness: a throwaway plant namespace, worker child processes and their resource use.

Workers run as `python -m workers.cli ...` child processes, exactly as an operator runs them, so
the figures include everything a real deployment pays (imports, AMQP framing, confirms). With
`roles` (the pipeline's runs), the plant's roles are made by `broker init` before anything is
measured, and each worker runs under its role's URL files, as `controlroom-worker plant` runs it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
import psutil

from controlroom.broker.connection import tls_context
from controlroom.broker.roles import Rabbitmqctl
from controlroom.broker.topology import Topology
from controlroom.clock import parse_duration
from controlroom.config import ENV_AMQP_URL, ENV_DATABASE_URL, Settings, split_amqp_urls
from controlroom.db import connect, ensure_database, migrate
from controlroom.db.connection import quote_ident
from controlroom.db.maintenance import maintain
from controlroom.db.migrations import drop_plant
from controlroom.db.partitions import partitions
from controlroom.db.policy import change_policy
from controlroom.errors import ConfigError, DatabaseUnavailable
from controlroom.processes import WorkerProcess
from controlroom.provision import Plan, init_roles, remove_roles, role_settings
from controlroom.roles import VIEWER, SecretsDir

log = logging.getLogger(__name__)

BENCH_PLANT_PREFIX = "b_"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/controlroom_bench"
SAMPLE_INTERVAL_S = 0.5
STOP_TIMEOUT_S = 30.0


async def wait_for_services(settings: Settings, timeout: float = 300.0) -> None:
    """Wait until RabbitMQ and PostgreSQL both answer: other suites restart them on purpose."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            connection = await open_broker(settings, timeout=5)
            await connection.close()
            await ensure_database(settings)
            return
        except (OSError, aio_pika.exceptions.AMQPError, DatabaseUnavailable) as error:
            if time.monotonic() > deadline:
                raise
            if not told:
                log.warning("waiting for the broker and the database (%s)", error)
                told = True
            await asyncio.sleep(2.0)


async def open_broker(settings: Settings, **options: Any) -> aio_pika.abc.AbstractConnection:
    """A plain connection to the settings' first broker, over TLS if it is amqps://."""
    connection: aio_pika.abc.AbstractConnection = await aio_pika.connect(
        settings.amqp_url, ssl_context=tls_context(settings), **options
    )
    return connection


def bench_settings() -> Settings:
    """A fresh namespace on the broker and database named by the environment (or the defaults)."""
    return Settings(
        amqp_urls=split_amqp_urls([os.environ.get(ENV_AMQP_URL) or DEFAULT_AMQP_URL]),
        database_url=os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL,
        plant=f"{BENCH_PLANT_PREFIX}{secrets.token_hex(4)}",
    )


def worker_args(*args: str) -> list[str]:
    """Workers log warnings only (BENCH_WORKER_LOG_LEVEL=INFO to see everything)."""
    level = os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING")
    return ["--log-level", level, *args]


def log_tail(process: WorkerProcess, lines: int = 5) -> str:
    return "\n".join(process.log_text().strip().splitlines()[-lines:])


@dataclass(slots=True)
class Usage:
    """CPU seconds in the measured window and peak resident memory of one process."""

    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    start_cpu: float | None = None


class ResourceSampler:
    """Samples RSS every half second; CPU is the difference of counters over the window.

    Also counts the broker's and PostgreSQL's CPU (all their processes, but the backends that
    answer the harness's own queries, which are counted apart) and the whole machine's, so a
    figure can be read against what else ran meanwhile.
    """

    def __init__(
        self, children: dict[str, WorkerProcess], harness_pids: set[int] | None = None
    ) -> None:
        self.children = {name: psutil.Process(child.pid) for name, child in children.items()}
        # PostgreSQL backends serving the harness's own queries (the commit probe polls 100
        # times a second): counted apart, they are the measurement's cost, not the plant's.
        self.harness_pids = harness_pids if harness_pids is not None else set()
        self.usage: dict[str, Usage] = {name: Usage() for name in children}
        self._servers: dict[int, tuple[str, psutil.Process, float]] = {}
        self.server_cpu_s: dict[str, float] = {"rabbitmq": 0.0, "postgresql": 0.0, "harness": 0.0}
        self._machine_start: float = 0.0
        self.machine_busy_s = 0.0
        self._task: asyncio.Task[None] | None = None
        self.window_s = 0.0
        self._started = 0.0
        self._started_wall = 0.0
        self._database: Reconnecting | None = None
        self._server_before: dict[str, float] | None = None
        self._server_after: dict[str, float] | None = None

    def add(self, name: str, child: WorkerProcess) -> None:
        self.children[name] = psutil.Process(child.pid)
        self.usage[name] = Usage()

    async def __aenter__(self) -> ResourceSampler:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _sample(self) -> None:
        while True:
            for name, child in self.children.items():
                try:
                    rss = child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                usage = self.usage[name]
                usage.peak_rss_mb = max(usage.peak_rss_mb, rss)
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    async def open_window(self, database: Reconnecting) -> None:
        """`start_window`, and PostgreSQL's counters with it: `report` then has the WAL written
        per reading and the checkpoints in the window."""
        self._database = database
        self._server_before = await server_stats(database)
        self.start_window()

    async def close_window(self) -> None:
        self.end_window()
        if self._database is not None:
            self._server_after = await server_stats(self._database)

    def start_window(self) -> None:
        self._started = time.monotonic()
        self._started_wall = time.time()
        for name, child in self.children.items():
            self.usage[name].start_cpu = _cpu(child)
        self._servers = {}
        for process in psutil.process_iter(["name"]):
            kind = self._kind(process)
            if kind:
                cpu = _cpu(process)
                if cpu is not None:
                    self._servers[process.pid] = (kind, process, cpu)
        self._machine_start = _machine_busy()

    def end_window(self) -> None:
        self.window_s = time.monotonic() - self._started
        for name, child in self.children.items():
            usage = self.usage[name]
            end = _cpu(child)
            if usage.start_cpu is not None and end is not None:
                usage.cpu_s = end - usage.start_cpu
        for kind, process, start in self._servers.values():
            end = _cpu(process)
            if end is not None:
                self.server_cpu_s[kind] += end - start
        # Server processes born in the window (a PostgreSQL backend per new connection). A
        # process's start time is only known to the clock tick: one born as the window opened,
        # after the scan at its start, may seem a little older.
        for process in psutil.process_iter(["name", "create_time"]):
            newcomer = self._kind(process)
            born = process.info["create_time"] or 0
            if newcomer and process.pid not in self._servers and born >= self._started_wall - 1.0:
                self.server_cpu_s[newcomer] += _cpu(process) or 0.0
        self.machine_busy_s = _machine_busy() - self._machine_start

    def _kind(self, process: psutil.Process) -> str | None:
        kind = _server_kind(process.info["name"] or "")
        return "harness" if kind == "postgresql" and process.pid in self.harness_pids else kind

    def report(self, readings: float) -> dict[str, Any]:
        """Per process: CPU seconds, per 1,000 readings, and peak RSS; shares of the machine."""
        cores = psutil.cpu_count() or 1
        capacity = max(self.window_s, 1e-9) * cores
        processes = {
            name: {
                "cpu_s": round(u.cpu_s, 3),
                "cpu_ms_per_1k_readings": round(1e6 * u.cpu_s / readings, 3) if readings else None,
                "peak_rss_mb": round(u.peak_rss_mb, 1),
            }
            for name, u in self.usage.items()
        }
        workers_cpu = sum(u.cpu_s for u in self.usage.values())
        servers_cpu = self.server_cpu_s["rabbitmq"] + self.server_cpu_s["postgresql"]
        return {
            "processes": processes,
            "cpu_share": round(workers_cpu / capacity, 4),
            "cpu_share_with_servers": round((workers_cpu + servers_cpu) / capacity, 4),
            "server_cpu_s": {k: round(v, 3) for k, v in self.server_cpu_s.items()},
            "machine_busy_share": round(self.machine_busy_s / capacity, 4),
            "max_rss_mb": round(max((u.peak_rss_mb for u in self.usage.values()), default=0), 1),
            **self._server_report(readings),
        }

    def _server_report(self, readings: float) -> dict[str, Any]:
        if self._server_before is None or self._server_after is None:
            return {}
        return server_delta(self._server_before, self._server_after, readings)


def _cpu(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def _server_kind(name: str) -> str | None:
    if name == "beam.smp":
        return "rabbitmq"
    if name == "postgres" or name.startswith("postgres:"):
        return "postgresql"
    return None


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class BenchPlant:
    """A plant namespace for one case: created migrated, removed with its queues afterwards.

    With `roles`, `broker init` makes the plant's roles first (its URL files in `secrets`, in the
    plant's temporary folder; `rabbitmqctl` reaches a broker node of the bench's own), workers
    started with a `role` run under it, and the harness reads the database as a viewer. The
    harness's other connections (migrating, partitioning, deleting the plant, counting what is
    queued) are the administrator's given in `settings`: they are the bench's, not the plant's.
    """

    settings: Settings = field(default_factory=bench_settings)
    roles: bool = False
    rabbitmqctl: Rabbitmqctl | None = None
    log_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="controlroom-bench-"))
    )
    children: dict[str, WorkerProcess] = field(default_factory=dict)
    extra_queues: list[str] = field(default_factory=list)
    harness_pids: set[int] = field(default_factory=set)
    # Times the harness lost PostgreSQL (other suites on a shared machine restart it): a run
    # that saw any is reported as disturbed, its figures not comparable.
    disturbances: int = 0
    secrets: SecretsDir | None = None  # the roles' URL files, once made
    roles_init_s: float = 0.0  # how long `broker init` took (before anything is measured)

    @property
    def topology(self) -> Topology:
        return Topology.of(self.settings)

    async def __aenter__(self) -> BenchPlant:
        await wait_for_services(self.settings)
        await migrate(self.settings)
        await self._partition_as_asked()
        if self.roles:
            await self._make_roles()
        log.info("plant %s ready (logs in %s)", self.settings.plant, self.log_dir)
        return self

    async def _make_roles(self) -> None:
        """`broker init` for this plant (after the partitions: it grants on what is there)."""
        self.secrets = SecretsDir(self.log_dir / "secrets")
        started = time.monotonic()
        try:
            await init_roles(self.settings, Plan(self.secrets, rabbitmqctl=self.rabbitmqctl))
        except BaseException:
            try:  # what a half-made init left (users are global to the broker)
                await self.__aexit__(None, None, None)
            except Exception as error:
                log.error("cleaning up after a failed broker init failed too: %s", error)
            raise
        self.roles_init_s = time.monotonic() - started
        log.info("roles made in %.1f s (%s)", self.roles_init_s, self.secrets.path)

    def as_role(self, role: str | None) -> Settings:
        """The settings a process of this role runs with: its URL files (the administrator's
        settings without roles, or for no role)."""
        if self.secrets is None or role is None:
            return self.settings
        return role_settings(self.settings, self.secrets, role)

    async def _partition_as_asked(self) -> None:
        """BENCH_PARTITION_INTERVAL=1m (or 1h): readings partitions that narrow from the
        start, so a run of a minute or two crosses partition boundaries while it ingests."""
        text = os.environ.get("BENCH_PARTITION_INTERVAL")
        if not text:
            return
        interval = parse_duration(text)
        if interval is None:
            raise ConfigError(f"BENCH_PARTITION_INTERVAL {text!r} is not a span like 1m or 1h")
        connection = await connect(self.settings)
        try:
            # The partitions migrate() made are dropped (empty) so the narrow ones start now.
            for partition in await partitions(connection):
                await connection.execute(f"DROP TABLE {quote_ident(partition.name)}")
            await change_policy(connection, partition_interval=interval, premake=interval * 10)
            report = await maintain(connection)
        finally:
            await connection.close()
        log.info("readings partitioned by %s: %d partitions made", text, len(report.made))

    async def __aexit__(self, *exc: object) -> None:
        for child in reversed(list(self.children.values())):
            await child.stopped()
        if self.secrets is not None:  # users are global to the broker: none left behind
            await remove_roles(self.settings, self.secrets, self.rabbitmqctl)
        await drop_plant(self.settings)
        await delete_topology(self.settings, self.extra_queues)

    def start(
        self,
        name: str,
        args: Sequence[str],
        module: str = "workers.cli",
        *,
        role: str | None = None,
    ) -> WorkerProcess:
        """A child process: `python -m MODULE ARGS`, its log in the plant's log folder, under
        `role` when the plant has roles."""
        child = WorkerProcess(
            args, self.as_role(role), self.log_dir / f"{name}.log", label=name, module=module
        )
        self.children[name] = child
        return child

    def worker(self, name: str, *args: str, role: str | None = None) -> WorkerProcess:
        return self.start(name, worker_args(*args), role=role)

    def check_alive(self) -> None:
        for child in self.children.values():
            if child.returncode not in (0, None):
                raise RuntimeError(f"{child} exited with {child.returncode}:\n{log_tail(child)}")

    async def database(self) -> asyncpg.Connection:
        """A connection for the harness's own queries (they only read: as a viewer, with
        roles); its backend is counted apart."""
        connection = await connect(self.as_role(VIEWER))
        self.harness_pids.add(connection.get_server_pid())
        return connection


T = TypeVar("T")


class Reconnecting:
    """A database connection for the harness that survives a PostgreSQL restart.

    The machine is shared: other test suites restart PostgreSQL on purpose. A query that loses
    its connection is retried on a new one, so a benchmark is noisy rather than broken.
    """

    RETRIES = 180  # a second apart

    def __init__(self, plant: BenchPlant) -> None:
        self._plant = plant
        self._connection: asyncpg.Connection | None = None

    async def run(self, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        for attempt in range(self.RETRIES):
            try:
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._plant.database()
                return await query(self._connection)
            except (
                OSError,
                asyncpg.InterfaceError,
                asyncpg.PostgresConnectionError,
                asyncpg.CannotConnectNowError,
                asyncpg.AdminShutdownError,
                DatabaseUnavailable,
            ) as error:
                if attempt % 10 == 0:
                    log.warning("harness query failed (%s); retrying", error)
                self._plant.disturbances += 1
                self._connection = None
                await asyncio.sleep(1.0)
        raise RuntimeError("the database stayed unavailable")

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.run(lambda c: c.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.run(lambda c: c.fetchval(sql, *args))

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()


_SERVER_STATS = """
SELECT (SELECT wal_bytes FROM pg_stat_wal)::float8 AS wal_bytes,
       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints
"""


async def server_stats(db: Reconnecting) -> dict[str, float]:
    """PostgreSQL's WAL written and checkpoints so far (server-wide: other plants count too)."""
    row = await db.run(lambda c: c.fetchrow(_SERVER_STATS))
    return {"wal_bytes": float(row["wal_bytes"]), "checkpoints": float(row["checkpoints"])}


def server_delta(
    before: dict[str, float], after: dict[str, float], readings: float
) -> dict[str, Any]:
    wal = after["wal_bytes"] - before["wal_bytes"]
    return {
        "wal_bytes_per_reading": round(wal / readings) if readings else None,
        "checkpoints": int(after["checkpoints"] - before["checkpoints"]),
    }


async def delete_topology(settings: Settings, queues: Sequence[str]) -> None:
    """Delete the plant's fixed queues and exchanges plus the named (per-source) queues."""
    connection = await open_broker(settings)
    try:
        await Topology.of(settings).delete(await connection.channel(), queues)
    finally:
        await connection.close()


async def ready_count(channel: aio_pika.abc.AbstractChannel, queue: str) -> int:
    """Messages ready on an existing queue (unacknowledged ones are not counted)."""
    underlay = await channel.get_underlay_channel()
    declared = await underlay.queue_declare(queue, passive=True)
    return int(declared.message_count or 0)
