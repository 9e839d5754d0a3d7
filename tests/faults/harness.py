"""What the fault and abuse cases share: a plant of worker processes, the services, the audit.

A case drives a plant in its own namespace at a steady load, injects a fault, lets it recover,
stops the sources (each says goodbye with the last seq the broker confirmed) and then waits until
the audit is clean: every confirmed reading stored exactly once. A lost reading shows as the
audit never getting clean, and the failure message is the audit report itself.

The audit is not taken on trust: a tally counted straight from the tables (`tally`) must find
the same, run by run, so a case also fails if the audit itself is blind.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import aio_pika
import asyncpg

from controlroom.broker.topology import Topology
from controlroom.config import Settings
from controlroom.db import connect
from controlroom.db.audit import AuditReport, audit
from controlroom.errors import DatabaseUnavailable
from tests.support import Worker, until, wait_for
from workers.audit import format_report

SERVICE_TIMEOUT_S = 90.0
DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


# --- the plant ---------------------------------------------------------------------------------


@dataclass
class SteadyLoad:
    """The workers of `Plant.steady_load`; a case may replace one it restarted."""

    sensor: Worker
    gateway: Worker
    coordinator: Worker
    datamanager: Worker


@dataclass
class Plant:
    """Worker processes of one test's plant, and the questions a case asks about them."""

    settings: Settings
    start_worker: Callable[..., Worker]
    workers: list[Worker] = field(default_factory=list)
    _db: asyncpg.Connection | None = None

    async def connection(self) -> asyncpg.Connection:
        """The test's own database connection, opened again after a PostgreSQL restart."""
        if self._db is None or self._db.is_closed():
            self._db = await connect(self.settings)
        return self._db

    async def fetchval(self, query: str, *args: object) -> object:
        """One value; after a lost connection the next call reconnects (None meanwhile)."""
        try:
            return await (await self.connection()).fetchval(query, *args)
        except (*DB_ERRORS, DatabaseUnavailable):
            self._db = None
            return None

    async def close(self) -> None:
        if self._db is not None and not self._db.is_closed():
            await self._db.close()

    @property
    def topology(self) -> Topology:
        return Topology.of(self.settings)

    def start(self, *args: str, amqp_url: str | None = None, name: str | None = None) -> Worker:
        flags = ["--amqp-url", amqp_url] if amqp_url else []
        worker = self.start_worker(*args, *flags, log_name=name)
        self.workers.append(worker)
        return worker

    def sensor(self, name: str = "s1", freq: float = 20.0, **options: str | None) -> Worker:
        amqp_url = options.pop("amqp_url", None)
        extra = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
        return self.start(
            "sensor",
            "--name",
            name,
            "--min",
            "0",
            "--max",
            "100",
            "--step",
            "2",
            "--freq",
            str(freq),
            *extra,
            amqp_url=amqp_url,
            name=f"sensor-{name}-{len(self.workers)}",
        )

    def gateway(self, count: int = 5, freq: float = 20.0, prefix: str = "g") -> Worker:
        return self.start(
            "sensors",
            "--count",
            str(count),
            "--freq",
            str(freq),
            "--prefix",
            prefix,
            name=f"gateway-{prefix}-{len(self.workers)}",
        )

    def coordinator(self, amqp_url: str | None = None) -> Worker:
        return self.start("coordinator", amqp_url=amqp_url, name=f"coordinator-{len(self.workers)}")

    def datamanager(self, amqp_url: str | None = None) -> Worker:
        return self.start("datamanager", amqp_url=amqp_url, name=f"datamanager-{len(self.workers)}")

    # --- questions ---------------------------------------------------------------------------

    async def stored(self) -> int:
        count = await self.fetchval("SELECT count(*) FROM sensor_reading")
        return count if isinstance(count, int) else 0

    async def stored_of(self, sensor: str) -> int:
        count = await self.fetchval(
            "SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id "
            "WHERE s.name = $1",
            sensor,
        )
        return count if isinstance(count, int) else 0

    async def wait_stored(self, at_least: int, timeout: float = 30.0) -> int:
        async def enough() -> int:
            count = await self.stored()
            return count if count >= at_least else 0

        return await wait_for(enough, timeout=timeout, what=f"{at_least} stored readings")

    async def wait_flowing(self, more: int = 50, timeout: float = 30.0) -> int:
        """Wait until `more` readings beyond what is stored now have been stored."""
        return await self.wait_stored(await self.stored() + more, timeout)

    async def queue_depth(self, queue: str) -> int:
        return await queue_depth(self.settings.amqp_url, queue)

    async def delete_queue(self, queue: str) -> None:
        connection = await aio_pika.connect(self.settings.amqp_url)
        try:
            channel = await connection.channel()
            await channel.queue_delete(queue)
        finally:
            await connection.close()

    async def stop_sources(self, *sources: Worker) -> None:
        """SIGTERM each source: it flushes, says goodbye and must exit 0."""
        for source in sources:
            status = await source.stopped(timeout=30.0)
            assert status == 0, (
                f"{source.args[:3]} exited with {status}:\n{source.log_text()[-3000:]}"
            )

    async def audited(
        self, *, reports: int, timeout: float = 60.0, since: datetime | None = None
    ) -> AuditReport:
        """Wait until `reports` sensor runs said goodbye, the audit is clean and the tally of the
        tables agrees with it; return the audit's report."""
        last: list[tuple[AuditReport, Tally]] = []

        async def settled() -> list[AuditReport]:
            try:
                connection = await self.connection()
                report = await audit(connection, since)
                counted = await tally(connection, since)
            except (*DB_ERRORS, DatabaseUnavailable):
                self._db = None
                return []
            last[:] = [(report, counted)]
            doubts = counted.doubts(report)
            return [report] if report.clean and not doubts and counted.goodbyes >= reports else []

        try:
            (report,) = await wait_for(settled, timeout=timeout, what="a clean audit")
            return report
        except AssertionError:
            if last:
                report, counted = last[0]
                doubts = "\n".join(counted.doubts(report)) or "none"
                text = (
                    f"{format_report(report, verbose=True)}\n"
                    f"the tables' tally: {counted.goodbyes} of {reports} goodbyes; doubts: {doubts}"
                )
            else:
                text = "no audit"
            raise AssertionError(
                f"the audit never got clean:\n{text}\n{await self.broker_state()}\n{self.logs()}"
            ) from None

    async def broker_state(self) -> str:
        """The plant's queues and consumers as the broker sees them (for failure messages)."""
        columns = ("name", "messages_ready", "messages_unacknowledged", "consumers")
        queues = (await _run("rabbitmqctl", "list_queues", *columns, "--quiet", timeout=30)).stdout
        consumers = (await _run("rabbitmqctl", "list_consumers", "--quiet", timeout=30)).stdout
        mine = [
            line
            for line in (queues + consumers).splitlines()
            if self.settings.plant in line or line.startswith("name")
        ]
        return "broker state:\n" + "\n".join(mine)

    async def steady_load(self) -> SteadyLoad:
        """The load most cases fault: a lone fast sensor, a gateway of four, a coordinator and
        a datamanager, with readings flowing into the database."""
        load = SteadyLoad(
            self.sensor("s1", freq=50),
            self.gateway(count=4, freq=25),
            self.coordinator(),
            self.datamanager(),
        )
        await self.wait_flowing(200)
        return load

    async def ends_clean(self, load: SteadyLoad, *, timeout: float = 60.0) -> AuditReport:
        """Stop the load's sources (each says goodbye) and require what every case requires:
        a complete, clean audit, the other workers alive, no traceback in any log."""
        await self.stop_sources(load.sensor, load.gateway)
        report = await self.audited(reports=5, timeout=timeout)
        assert_complete(report, sensors=5)
        self.assert_alive(load.coordinator, load.datamanager)
        self.assert_no_tracebacks()
        return report

    def assert_alive(self, *workers: Worker) -> None:
        for worker in workers:
            assert worker.running(), f"{worker.args[0]} died:\n{worker.log_text()[-3000:]}"

    def assert_no_tracebacks(self) -> None:
        for worker in self.workers:
            assert "Traceback" not in worker.log_text(), (
                f"{worker.args[0]}:\n{worker.log_text()[-4000:]}"
            )

    def logs(self, tail: int = 1500) -> str:
        return "\n".join(
            f"--- {worker} ---\n{worker.log_text()[-tail:]}" for worker in self.workers
        )


def logged(worker: Worker, text: str, times: int = 1) -> Callable[[], bool]:
    """A probe: has the worker logged `text` at least `times` times?"""
    return lambda: worker.log_text().count(text) >= times


async def wait_logged(
    worker: Worker, text: str, *, times: int = 1, timeout: float = 20.0, what: str
) -> None:
    """Wait until the worker logged `text`; on timeout the failure shows the worker's log."""
    try:
        await until(logged(worker, text, times), what, timeout=timeout)
    except AssertionError as error:
        tail = f"--- {worker} ---\n{worker.log_text()[-3000:]}"
        raise AssertionError(f"{error}\n{tail}") from None


def assert_complete(report: AuditReport, *, sensors: int, dropped: int = 0) -> None:
    """The audit's verdict, spelled out: nothing missing, nothing twice, nothing dropped."""
    assert report.clean, format_report(report, verbose=True)
    assert report.missing == 0 and report.duplicates == 0
    assert report.dropped == dropped, format_report(report, verbose=True)
    names = {run.sensor for run in report.runs}
    assert len(names) >= sensors, names
    assert report.stored > 0


# --- the tally: what the audit must agree with, counted without its code ------------------------

_TALLY_READINGS = """
SELECT s.name AS sensor, sr.run, r.stored, r.distinct_seqs, r.lowest, r.highest
FROM (SELECT sensor_id, run_id, count(*) AS stored, count(DISTINCT seq) AS distinct_seqs,
             min(seq) AS lowest, max(seq) AS highest
      FROM sensor_reading
      WHERE $1::timestamptz IS NULL OR taken_on >= $1::timestamptz
      GROUP BY sensor_id, run_id) r
JOIN sensor s ON s.id = r.sensor_id JOIN source_run sr ON sr.id = r.run_id
"""
_TALLY_GOODBYES = """
SELECT s.name AS sensor, sr.run, rep.last_seq, rep.dropped
FROM run_report rep JOIN sensor s ON s.id = rep.sensor_id JOIN source_run sr ON sr.id = rep.run_id
WHERE $1::timestamptz IS NULL OR rep.ended_at >= $1::timestamptz
"""


@dataclass(slots=True)
class RunTally:
    """One sensor run as the tables hold it: its readings counted, its goodbye read."""

    sensor: str
    run: str
    stored: int = 0
    distinct_seqs: int = 0
    lowest: int | None = None
    highest: int | None = None
    confirmed: int | None = None  # the goodbye's last seq; None if it never said goodbye
    dropped: int = 0

    def absent(self, windowed: bool) -> int:
        """Seqs up to the goodbye's (or the highest stored) not stored: from seq 1, or in a
        window from the first one stored in it."""
        top = max(self.highest or 0, self.confirmed or 0)
        if not windowed:
            return top - self.distinct_seqs
        return 0 if self.lowest is None else top - self.lowest + 1 - self.distinct_seqs

    def faults(self, windowed: bool) -> list[str]:
        found = []
        if self.stored != self.distinct_seqs:
            found.append(f"{self.stored - self.distinct_seqs} seqs stored twice")
        if self.absent(windowed) > self.dropped:
            found.append(f"{self.absent(windowed)} seqs not stored, {self.dropped} dropped")
        if self.lowest is not None and self.lowest < 1:
            found.append(f"seq {self.lowest} stored")
        return [f"{self.sensor} run {self.run[:8]}: {fault}" for fault in found]


@dataclass(frozen=True, slots=True)
class Tally:
    """Every sensor run the tables hold (readings taken, or goodbyes received, since `since`)."""

    runs: Sequence[RunTally]
    windowed: bool

    @property
    def goodbyes(self) -> int:
        return sum(run.confirmed is not None for run in self.runs)

    def doubts(self, report: AuditReport) -> list[str]:
        """What the tables show wrong, and where the audit's report disagrees with them."""
        found = [fault for run in self.runs for fault in run.faults(self.windowed)]
        audited = {(run.sensor, run.run): run for run in report.runs}
        for counted in self.runs:
            name = f"{counted.sensor} run {counted.run[:8]}"
            run = audited.pop((counted.sensor, counted.run), None)
            if run is None:
                found.append(f"the audit does not list {name}")
                continue
            says = (run.stored, run.duplicates, run.confirmed_seq, run.dropped)
            holds = (
                counted.stored,
                counted.stored - counted.distinct_seqs,
                counted.confirmed,
                counted.dropped,
            )
            if says != holds:
                found.append(
                    f"{name}: the audit says (stored, duplicates, confirmed, dropped) = {says}, "
                    f"the tables {holds}"
                )
            if not self.windowed and run.missing != counted.absent(windowed=False):
                found.append(
                    f"{name}: the audit says {run.missing} missing, the tables "
                    f"{counted.absent(windowed=False)}"
                )
        found.extend(
            f"the audit lists {sensor} run {run[:8]}, not in the tables" for sensor, run in audited
        )
        return found


async def tally(connection: asyncpg.Connection, since: datetime | None = None) -> Tally:
    runs: dict[tuple[str, str], RunTally] = {}
    for row in await connection.fetch(_TALLY_READINGS, since):
        runs[row["sensor"], row["run"]] = RunTally(
            row["sensor"],
            row["run"],
            row["stored"],
            row["distinct_seqs"],
            row["lowest"],
            row["highest"],
        )
    for row in await connection.fetch(_TALLY_GOODBYES, since):
        run = runs.setdefault((row["sensor"], row["run"]), RunTally(row["sensor"], row["run"]))
        run.confirmed, run.dropped = row["last_seq"], row["dropped"]
    return Tally(list(runs.values()), windowed=since is not None)


async def queue_depth(amqp_url: str, queue: str) -> int:
    """Messages ready in a queue (a passive declare: the queue is not created or changed)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        return int(count or 0)
    finally:
        await connection.close()


# --- the services ------------------------------------------------------------------------------


async def _run(
    *command: str, timeout: float = SERVICE_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """A service command, in a thread: the case's event loop (its consumers) runs on."""
    return await asyncio.to_thread(
        subprocess.run, list(command), capture_output=True, text=True, timeout=timeout, check=False
    )


class Broker:
    """RabbitMQ's application on this machine: stopped and started by the fault cases only."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True
        result = await _run("rabbitmqctl", "stop_app")
        assert result.returncode == 0, result.stderr

    async def start(self) -> None:
        result = await _run("rabbitmqctl", "start_app")
        if result.returncode != 0:  # the whole node is down: bring it up
            await _run("rabbitmq-server", "-detached")
            await _run("rabbitmqctl", "wait", "--timeout", "60", "--pid", await _node_pid())
            await _run("rabbitmqctl", "start_app")
        await wait_for(self._answers, timeout=SERVICE_TIMEOUT_S, what="RabbitMQ to answer")
        self.stopped = False

    async def wait_running(self, timeout: float) -> bool:
        """Wait (without starting anything) until RabbitMQ answers; False if it did not."""
        try:
            await wait_for(self._answers, timeout=timeout, what="RabbitMQ")
        except AssertionError:
            return False
        return True

    async def _answers(self) -> bool:
        try:
            connection = await aio_pika.connect(self.amqp_url, timeout=2)
        except Exception:
            return False
        await connection.close()
        return True

    async def set_policy(self, name: str, pattern: str, definition: str) -> None:
        result = await _run(
            "rabbitmqctl",
            "set_policy",
            name,
            pattern,
            definition,
            "--apply-to",
            "queues",
            "--priority",
            "100",
        )
        assert result.returncode == 0, result.stderr

    async def clear_policy(self, name: str) -> None:
        await _run("rabbitmqctl", "clear_policy", name)


async def _node_pid() -> str:
    result = await _run("sh", "-c", "pgrep -o -f 'beam.*rabbit' || true", timeout=10)
    return result.stdout.strip() or "0"


class Database:
    """The PostgreSQL 15 cluster on this machine: restarted by the fault cases only."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def restart(self) -> None:
        result = await _run("pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart")
        assert result.returncode == 0, result.stderr

    async def stop(self) -> None:
        result = await _run("pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "stop")
        assert result.returncode == 0, result.stderr

    async def wait_running(self, timeout: float) -> bool:
        """Wait (without starting anything) until PostgreSQL answers; False if it did not."""
        try:
            await wait_for(self._answers, timeout=timeout, what="PostgreSQL")
        except AssertionError:
            return False
        return True

    async def ensure_running(self) -> None:
        if not await self._answers():
            await _run("pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start")
        await wait_for(self._answers, timeout=SERVICE_TIMEOUT_S, what="PostgreSQL to answer")

    async def _answers(self) -> bool:
        try:
            connection = await asyncpg.connect(self.database_url, timeout=2)
        except asyncpg.InvalidCatalogNameError:
            return True  # the server answers; the test database is made by tests/conftest.py
        except Exception:
            return False
        await connection.close()
        return True


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5672
