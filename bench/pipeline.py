"""`pipeline`: gateways -> coordinator -> datamanager -> PostgreSQL, with a viewer listening.

K sensors at F Hz spread over G gateways (one frame per gateway per tick). After a warm-up, the
measured window opens: readings/s is what got committed during the window (the probe sensors'
highest stored seq times their gateway's size), latencies are those of readings taken inside
it. Then the gateways stop (they flush and say goodbye), the plant drains and the audit checks
that every confirmed reading is stored exactly once.

`--cluster` runs the same load twice in one go: first on the single broker node with classic
queues (the baseline), then on the local three-node cluster of `scripts/cluster` with quorum
queues replicated on every node, and reports the second beside the first.

`--tls` runs it twice on a broker node and a PostgreSQL instance that the bench starts itself
(`devsupport.tlsservices`, certificates by trustme), each taking plain and TLS connections: first
without TLS, then with TLS to both (a client certificate shown to each), and reports the second
beside the first with each process's CPU per 1,000 readings both ways.

Every run has roles (`roles: true` in its figures): the plant's roles are made by `broker init`
before the plant starts, outside the measured window, and each process runs under its own (the
gateways as sensor, the coordinator, the datamanager; the viewer probe as viewer), as a plant
of `controlroom-worker plant` does. Only the harness's own bookkeeping (migrating, counting
what is queued, deleting the plant afterwards) uses the administrator's login.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    BenchPlant,
    Reconnecting,
    ResourceSampler,
    bench_settings,
    open_broker,
    ready_count,
)
from bench.probes import CommitProbe, ViewerProbe, Window
from controlroom.broker.roles import Rabbitmqctl
from controlroom.config import Settings
from controlroom.db.audit import AuditReport, audit
from controlroom.roles import COORDINATOR, DATAMANAGER, SENSOR, VIEWER
from devsupport.cluster import LocalCluster
from devsupport.tlsservices import tls_services

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 180.0
DRAIN_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Load:
    sensors: int = 6000
    freq: float = 10.0
    gateways: int = 4
    writers: int = 2
    warmup: float = 5.0
    duration: float = 60.0

    @property
    def offered_per_s(self) -> float:
        return self.sensors * self.freq

    def split(self) -> list[int]:
        """Sensors per gateway, as even as possible."""
        base, extra = divmod(self.sensors, self.gateways)
        return [base + (1 if n < extra else 0) for n in range(self.gateways)]


@dataclass(frozen=True, slots=True)
class Gateway:
    prefix: str
    size: int

    @property
    def source(self) -> str:
        return f"{self.prefix}-gateway"

    @property
    def probe(self) -> str:
        """The gateway's first sensor, named as `sensors --count` names it."""
        return f"{self.prefix}-{1:0{len(str(self.size))}d}"


# The baseline's figures shown beside a run's (one node beside the cluster, plain beside TLS).
COMPARED = (
    "readings_per_s",
    "commit_p99_ms",
    "viewer_p99_ms",
    "audit_clean",
    "cpu_share_with_servers",
    "machine_busy_share",
)


def beside(
    result: dict[str, Any],
    baseline: dict[str, Any],
    name: str,
    keys: tuple[str, ...] = COMPARED,
) -> dict[str, Any]:
    """The baseline's figures under `name` in the result, and the throughput as a ratio of it
    (`readings_per_s/NAME`): both runs of one invocation, so the machine's noise is shared."""
    result[name] = {key: baseline.get(key) for key in keys}
    if baseline.get("readings_per_s"):
        result[f"readings_per_s/{name}"] = round(
            result["readings_per_s"] / baseline["readings_per_s"], 3
        )
    return result


async def run_on_cluster(load: Load) -> dict[str, Any]:
    """The load on one node with classic queues, then on the local cluster with quorum queues.

    The cluster is started if it is not running, and then stopped again; one that was running
    (someone's) is used and left as it was.
    """
    single = await run(load)
    cluster = LocalCluster()
    borrowed = bool(await cluster.urls())
    try:
        urls = await cluster.start()
        settings = dataclasses.replace(bench_settings(), amqp_urls=tuple(urls), queue_type="quorum")
        result = await run(load, settings, replicas=cluster)
    finally:
        if not borrowed:
            await cluster.stop()
    return beside(result, single, "single_node")


async def run_with_tls(load: Load) -> dict[str, Any]:
    """The load without TLS, then with TLS to both services, on the same servers (the bench's
    own, stopped at the end whatever happens)."""
    directory = Path(tempfile.mkdtemp(prefix="controlroom-bench-tls-"))
    try:
        async with tls_services(directory, plain_too=True) as services:
            node = services.broker.rabbitmqctl()  # roles are made on the bench's own node
            plain = await run(load, services.plain_settings(bench_settings()), rabbitmqctl=node)
            result = await run(load, services.settings(bench_settings()), rabbitmqctl=node)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result["tls"] = True
    beside(result, plain, "without_tls", (*COMPARED, "processes", "server_cpu_s"))
    result["cpu_ms_per_1k_readings"] = {
        name: {
            "tls": figures.get("cpu_ms_per_1k_readings"),
            "plain": plain.get("processes", {}).get(name, {}).get("cpu_ms_per_1k_readings"),
        }
        for name, figures in result.get("processes", {}).items()
    }
    return result


async def run(
    load: Load,
    settings: Settings | None = None,
    *,
    replicas: LocalCluster | None = None,
    rabbitmqctl: Rabbitmqctl | None = None,
) -> dict[str, Any]:
    """One run of the load, with roles; on `replicas` (a cluster), also where the persist queue
    lives. `rabbitmqctl` reaches a broker of the bench's own (`broker init`; the cluster's is
    its node 1's)."""
    gateways = [Gateway(f"g{n + 1}", size) for n, size in enumerate(load.split()) if size]
    if rabbitmqctl is None and replicas is not None:
        rabbitmqctl = replicas.rabbitmqctl()
    async with BenchPlant(
        settings or bench_settings(), roles=True, rabbitmqctl=rabbitmqctl
    ) as plant:
        plant.extra_queues.extend(plant.topology.readings_queue(g.source) for g in gateways)
        window = Window()
        viewer = ViewerProbe(plant.as_role(VIEWER), window)
        await viewer.start()
        plant.worker("datamanager", "datamanager", "--writers", str(load.writers), role=DATAMANAGER)
        plant.worker("coordinator", "coordinator", role=COORDINATOR)
        for gateway in gateways:
            plant.worker(
                f"sensors-{gateway.prefix}",
                "sensors",
                "--count",
                str(gateway.size),
                "--freq",
                str(load.freq),
                "--prefix",
                gateway.prefix,
                role=SENSOR,
            )
        db = Reconnecting(plant)
        commit = CommitProbe(plant.database, window)
        try:
            ids = await _probe_ids(plant, db, [g.probe for g in gateways])
            await commit.watch(ids)
            sampler = ResourceSampler(dict(plant.children), plant.harness_pids)
            async with sampler:
                await _sleep_checking(plant, load.warmup)
                before = _stored(commit, ids, gateways)
                await sampler.open_window(db)
                window.open()
                await _sleep_checking(plant, load.duration)
                window.close()
                await sampler.close_window()
                after = _stored(commit, ids, gateways)
                backlog = await _backlog(plant, gateways)
                placement = await _placement(plant, replicas) if replicas else {}
                stopped_at = time.monotonic()
                for gateway in gateways:
                    await plant.children[f"sensors-{gateway.prefix}"].stopped()
                report, drained = await _drain_and_audit(db, commit, ids, load.sensors)
                drain_s = time.monotonic() - stopped_at
        finally:
            await commit.stop()
            await viewer.stop()
            await db.close()
    readings = after - before
    return {
        "case": "pipeline",
        "broker_nodes": len(plant.settings.amqp_urls),
        "queue_type": plant.settings.durable_queue_type,
        "roles": plant.secrets is not None,
        **placement,
        "sensors": load.sensors,
        "freq_hz": load.freq,
        "gateways": len(gateways),
        "writers": load.writers,
        "duration_s": round(sampler.window_s, 1),
        "offered_per_s": round(load.offered_per_s),
        "readings_per_s": round(readings / sampler.window_s),
        **commit.latency.summary("commit"),
        **viewer.latency.summary("viewer"),
        **backlog,
        "drain_s": round(drain_s, 1),
        "disturbed": bool(plant.disturbances or commit.disturbances),
        "drained": drained,
        # Not drained: readings still queued look missing, so only duplicates can fail the audit.
        "audit_clean": True if report.clean else (False if drained or report.duplicates else None),
        "audit_stored": report.stored,
        "audit_missing": report.missing,
        "audit_duplicates": report.duplicates,
        "audit_dropped": report.dropped,
        **sampler.report(readings),
    }


async def _sleep_checking(plant: BenchPlant, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        plant.check_alive()
        await asyncio.sleep(min(1.0, left))


async def _probe_ids(plant: BenchPlant, connection: Reconnecting, names: list[str]) -> list[int]:
    """Wait for the probe sensors to be stored (the plant is up), then return their ids."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        plant.check_alive()
        rows = await connection.fetch(
            "SELECT s.id, s.name FROM sensor s WHERE s.name = any($1::text[]) AND EXISTS "
            "(SELECT 1 FROM sensor_reading r WHERE r.sensor_id = s.id)",
            names,
        )
        if len(rows) == len(names):
            by_name = {row["name"]: row["id"] for row in rows}
            return [by_name[name] for name in names]
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the plant stored no readings within {STARTUP_TIMEOUT_S:.0f}s")


async def _backlog(plant: BenchPlant, gateways: list[Gateway]) -> dict[str, int]:
    """Messages waiting at the end of the window: which stage fell behind, if any."""
    connection = await open_broker(plant.settings)
    try:
        channel = await connection.channel()
        readings = 0
        for gateway in gateways:
            readings += await ready_count(channel, plant.topology.readings_queue(gateway.source))
        persist = await ready_count(channel, plant.topology.persist_queue)
    finally:
        await connection.close()
    return {"backlog_readings_msgs": readings, "backlog_persist_msgs": persist}


async def _placement(plant: BenchPlant, cluster: LocalCluster) -> dict[str, Any]:
    """How many nodes hold a replica of the persist queue, and which leads it."""
    queue = await cluster.quorum_queue(plant.topology.persist_queue, via=1)
    if queue is None:
        return {"persist_replicas": 0}
    return {"persist_replicas": len(queue.members), "persist_leader_node": queue.leader}


def _stored(commit: CommitProbe, ids: list[int], gateways: list[Gateway]) -> int:
    """Readings committed so far: a gateway's sensors tick together, one frame each tick."""
    return sum(commit.last_seq[i] * g.size for i, g in zip(ids, gateways, strict=True))


async def _drain_and_audit(
    connection: Reconnecting, commit: CommitProbe, ids: list[int], sensors: int
) -> tuple[AuditReport, bool]:
    """Wait for every goodbye (run report) and the probes' last readings, then audit.

    Two writers commit side by side, so the last transactions may land in either order; an
    unclean audit is retried for a while before it counts. Returns the report and whether the
    plant drained: if it did not, readings still queued count as missing, and the audit proves
    nothing either way.
    """
    drained = False
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        reports = await connection.fetch(
            "SELECT sensor_id, last_seq FROM run_report WHERE sensor_id = any($1::int[])", ids
        )
        done = {row["sensor_id"]: row["last_seq"] for row in reports}
        count = await connection.fetchval("SELECT count(*) FROM run_report")
        if count >= sensors and all(commit.last_seq[i] >= done.get(i, 1 << 62) for i in ids):
            drained = True
            break
        await asyncio.sleep(0.1)
    else:
        log.warning("the plant did not drain within %.0fs", DRAIN_TIMEOUT_S)
    report = await connection.run(audit)
    for _ in range(10):
        if report.clean:
            break
        await asyncio.sleep(1.0)
        report = await connection.run(audit)
    return report, drained
