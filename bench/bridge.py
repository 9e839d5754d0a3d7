"""Bench: the bridge fanning a plant's readings out to 100 websocket clients and 1 that never reads.

A fake coordinator publishes frames on the events exchange at a fixed rate (SENSORS sensors at
FREQ Hz); the bridge runs as a `controlroom-worker bridge` child process; the clients run in a few
helper processes (so the clients' own parsing does not share a core with the bridge's event
loop), plus one raw TCP client that completes the handshake and never reads again. Reported:
readings/s delivered per client (and how many clients got every reading), end-to-end latency
(publish -> broker -> bridge -> client, sampled), the bridge's CPU share of one core, and its
RSS at start, peak and end of the window (bounded: it must not grow with the stalled client).

    python -m bench bridge [--duration S]          # through the shared harness
    python -m bench.bridge [--duration S] [--batch] [--clients N] [--sensors N] [--freq HZ]

`--batch` has the clients ask for the `readings` extension (many readings per frame) instead of
the original protocol's one message per reading. `--page` measures the browser page instead: one
headless Chromium (/usr/bin/chromium) showing SENSORS sensors at FREQ Hz, reporting its paints
(animation frames) per second and chart render times. See docs/bridge.md for figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import orjson
import psutil

from bench.harness import BenchPlant, ResourceSampler
from controlroom.broker.publishing import json_message
from controlroom.broker.topology import reading_key, source_key
from controlroom.clock import now_us
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.sensors import SensorInfo
from controlroom.processes import WorkerProcess
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import SourceState
from devsupport.chromium import CHROMIUM, launch
from devsupport.net import free_port, stalled_client
from workers.bridge.folding import DEFAULT_MAX_RATE_HZ

log = logging.getLogger(__name__)

CLIENTS = 100
CLIENTS_PER_PROCESS = 25
SENSORS = 50
FREQ_HZ = 4.0
LATENCY_SAMPLE_EVERY = 50
# One reading of sensor 0, halfway through, far outside its range: every client must see it
# (as a value, or as the Max of a folded one).
SPIKE = 1e9
DRAIN_TIMEOUT_S = 10.0


async def run(
    duration: float,
    *,
    clients: int = CLIENTS,
    sensors: int = SENSORS,
    freq: float = FREQ_HZ,
    batch: bool = False,
    max_rate: float | None = None,
) -> dict[str, Any]:
    """Run the case for `duration` measured seconds; figures as a flat dict (+ processes).
    `max_rate` is the bridge's --max-rate-per-sensor (its default if None)."""
    rate_args = () if max_rate is None else ("--max-rate-per-sensor", str(max_rate))
    async with (
        BenchPlant() as plant,
        _bridge_with_sensors(plant, sensors, freq, *rate_args) as live,
    ):
        base = live.address
        async with (
            _client_processes(f"ws://{base}/ws", clients, batch) as pool,
            _stalled_client(base),
        ):
            await _wait_health(base, lambda h: h["clients"] == clients + 1, "every client", plant)
            sampler = ResourceSampler({"bridge": live.bridge})
            rss = _RssTrack(psutil.Process(live.bridge.pid))
            helpers = [psutil.Process(p.pid) for p in pool.processes]
            helpers_cpu = sum(_cpu_s(p) for p in helpers)
            async with sampler, rss:
                sampler.start_window()
                started = time.monotonic()
                published = await _publish(live.events, live.names, freq, duration)
                publish_s = time.monotonic() - started
                health = await _health(base)
                reports = await _drain(pool, published)
                sampler.end_window()
            helpers_cpu = sum(_cpu_s(p) for p in helpers) - helpers_cpu
        plant.check_alive()

    usage = sampler.report(published).get("processes", {}).get("bridge", {})
    window = sampler.window_s
    counts, latencies = reports["counts"], reports["latency_ms"]
    per_client = [count / publish_s for count in counts]
    messages_per_client = [n / publish_s for n in reports["items"]]
    return {
        "mode": "batch" if batch else "one message per reading (original protocol)",
        "clients": clients,
        "stalled_clients": 1,
        "sensors": sensors,
        "offered_readings_per_s": round(published / publish_s, 1),
        "delivered_per_client_per_s_min": round(min(per_client), 1),
        "delivered_per_client_per_s_median": round(statistics.median(per_client), 1),
        "max_rate_per_sensor_hz": max_rate or DEFAULT_MAX_RATE_HZ,
        "readings_sent_per_client_per_s_median": round(statistics.median(messages_per_client), 1),
        "clients_with_every_reading": sum(1 for c in counts if c == published),
        "complete": all(c == published for c in counts),
        "clients_that_heard_every_sensor": sum(1 for n in reports["sensors"] if n == sensors),
        "clients_that_saw_the_spike": sum(reports["spikes"]),
        "readings_per_s_delivered_in_all": round(sum(counts) / publish_s, 1),
        "latency_ms_p50": _percentile(latencies, 0.50),
        "latency_ms_p99": _percentile(latencies, 0.99),
        "bridge_cpu_percent_of_a_core": round(100 * usage.get("cpu_s", 0.0) / window, 1),
        "bridge_cpu_us_per_reading_in": round(1e6 * usage.get("cpu_s", 0.0) / published, 3),
        "bridge_rss_mb_start": rss.start,
        "bridge_rss_mb_peak": rss.peak,
        "bridge_rss_mb_end": rss.end,
        "bridge_queued_readings_at_end_of_load": health.get("queued_readings"),
        "bridge_dropped_readings": health.get("dropped_readings"),
        "bridge_clients_at_end_of_load": health.get("clients"),
        "client_helpers_cpu_percent": round(100 * helpers_cpu / window, 1),
        "cpus": psutil.cpu_count(),
        "publish_s": round(publish_s, 2),
        "window_s": round(window, 2),
        "processes": {"bridge": usage},
    }


async def run_page(
    duration: float, *, sensors: int = SENSORS, freq: float = 10.0, chromium: str = CHROMIUM
) -> dict[str, Any]:
    """The page in headless Chromium under a plant's load: paints/s and chart render cost."""
    from playwright.async_api import async_playwright

    async with (
        BenchPlant() as plant,
        _bridge_with_sensors(plant, sensors, freq) as live,
        async_playwright() as playwright,
    ):
        browser = await launch(playwright, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1600, "height": 1000})
            await page.goto(f"http://{live.address}/")
            load = asyncio.create_task(_publish(live.events, live.names, freq, duration + 3))
            await asyncio.sleep(3)  # warm-up: the cards exist and have data
            before = await page.evaluate("({...window.controlroomStats})")
            await asyncio.sleep(duration)
            after = await page.evaluate("({...window.controlroomStats})")
            cards = await page.locator(".card").count()
            canvases = await page.locator("canvas").count()
            memory = await _page_memory(page)
            await load
        finally:
            await browser.close()
    delta = {key: after[key] - before[key] for key in COUNTERS}
    return {
        "mode": "page",
        "sensors": sensors,
        "cards": cards,
        "canvases": canvases,
        "js_heap_mb_after_gc": memory["heap_mb"],
        "dom_nodes": memory["nodes"],
        "offered_readings_per_s": round(sensors * freq, 1),
        "page_readings_per_s": round(delta["readings"] / duration, 1),
        "paints_per_s": round(delta["paints"] / duration, 1),
        "chart_renders_per_s": round(delta["renders"] / duration, 1),
        "ms_per_chart_render": round(delta["renderMs"] / max(1, delta["renders"]), 2),
        "cpus": psutil.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


COUNTERS = ("paints", "renders", "renderMs", "readings")  # of window.controlroomStats


async def _page_memory(page: Any) -> dict[str, float]:
    """The page's JavaScript heap after a full collection, and its DOM nodes (Chromium's own
    counters, over the DevTools protocol)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    await cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    return {"heap_mb": round(metrics["JSHeapUsedSize"] / 2**20, 1), "nodes": metrics["Nodes"]}


# --- load ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LiveBridge:
    address: str  # host:port
    bridge: WorkerProcess
    events: aio_pika.abc.AbstractExchange
    names: list[str]


@contextlib.asynccontextmanager
async def _bridge_with_sensors(
    plant: BenchPlant, sensors: int, freq: float, *args: str
) -> AsyncIterator[_LiveBridge]:
    """A bridge listening on a free port, and `sensors` sensors announced on the events exchange."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    bridge = plant.worker("bridge", "bridge", "--port", str(port), *args)
    await _wait_health(address, lambda h: True, "the bridge to listen", plant)
    connection = await aio_pika.connect(plant.settings.amqp_url)
    try:
        events = await plant.topology.events(await connection.channel())
        yield _LiveBridge(address, bridge, events, await _announce(events, sensors, freq))
    finally:
        await connection.close()


async def _announce(events: aio_pika.abc.AbstractExchange, sensors: int, freq: float) -> list[str]:
    names = [f"sensor_{i:03}" for i in range(sensors)]
    for name in names:
        state = SourceState(SensorInfo(name, f"SN{name}", "u", 10.0, 90.0, 1 / freq))
        await events.publish(
            json_message(encode(state), persistent=False), routing_key=source_key(name)
        )
    return names


async def _publish(
    events: aio_pika.abc.AbstractExchange, names: list[str], freq: float, duration: float
) -> int:
    """One frame with every sensor per tick, on a fixed schedule; returns readings published.
    Halfway through, sensor 0 reads SPIKE once."""
    run_id = secrets.token_hex(4)
    ticks = max(1, round(duration * freq))
    start = time.monotonic()
    layout = Layout(names)
    for tick in range(ticks):
        taken = now_us()
        values = [50.0 + 40.0 * math.sin(tick / 10 + i) for i in range(len(names))]
        if tick == ticks // 2:
            values[0] = SPIKE
        frame = Frame(
            "bench_gateway", run_id, layout, [tick + 1] * len(names), [taken] * len(names), values
        )
        await events.publish(
            json_message(encode(frame), persistent=False), routing_key=reading_key(frame.source)
        )
        delay = start + (tick + 1) / freq - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # the plant's tick, not a synchronisation
    return ticks * len(names)


class _Pool:
    """Client helper processes, asked for their counts over stdin/stdout."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes

    async def ask(self, command: str) -> list[dict[str, Any]]:
        answers = []
        for process in self.processes:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(command.encode() + b"\n")
            await process.stdin.drain()
            answers.append(orjson.loads(await process.stdout.readline()))
        return answers


@contextlib.asynccontextmanager
async def _client_processes(url: str, clients: int, batch: bool) -> AsyncIterator[_Pool]:
    sizes = [CLIENTS_PER_PROCESS] * (clients // CLIENTS_PER_PROCESS)
    if clients % CLIENTS_PER_PROCESS:
        sizes.append(clients % CLIENTS_PER_PROCESS)
    processes = []
    try:
        for size in sizes:
            argv = ["-m", "bench.bridge", "--client-worker", url, "--clients", str(size)]
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *argv,
                *(["--batch"] if batch else []),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**26,  # a report line carries every sampled latency
            )
            processes.append(process)
        pool = _Pool(processes)
        await pool.ask("ready")
        yield pool
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()


@contextlib.asynccontextmanager
async def _stalled_client(address: str) -> AsyncIterator[None]:
    """Handshake, then never read: the bridge's problem to contain."""
    writer = await stalled_client(address)
    try:
        yield
    finally:
        writer.close()


async def _drain(pool: _Pool, published: int) -> dict[str, list[Any]]:
    """The clients' reports (each key a list over every client) once every client has
    accounted for everything, or once counts stop moving."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    last: list[int] = []
    while True:
        answers = await pool.ask("report")
        merged = {key: [v for answer in answers for v in answer[key]] for key in answers[0]}
        counts = merged["counts"]
        if all(c >= published for c in counts) or time.monotonic() > deadline or counts == last:
            return merged
        last = counts
        await asyncio.sleep(0.5)  # polling a count, with a deadline


class _RssTrack:
    """The bridge's resident memory at the window's start, peak and end, in MB."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.start = self.peak = self.end = 0.0
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> float:
        rss: float = round(self.process.memory_info().rss / 2**20, 1)
        self.peak = max(self.peak, rss)
        self.end = rss
        return rss

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self._sample()

    async def __aenter__(self) -> _RssTrack:
        self.start = self._sample()
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()


async def _health(address: str) -> dict[str, Any]:
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
        answer = await reader.read()
    finally:
        writer.close()
    data: dict[str, Any] = orjson.loads(answer.partition(b"\r\n\r\n")[2])
    return data


async def _wait_health(address: str, ok: Any, what: str, plant: BenchPlant) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        plant.check_alive()
        with contextlib.suppress(OSError, ValueError):
            if ok(await _health(address)):
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


# --- the client helper process -----------------------------------------------------------


async def _client_worker(url: str, clients: int, batch: bool) -> None:
    """Clients that count what they were told: readings accounted for (a folded one counts
    its `Count`), messages, sensors heard of, and whether the one-reading spike showed."""
    from websockets.asyncio.client import connect

    counts = [0] * clients
    items = [0] * clients
    sensors: list[set[str]] = [set() for _ in range(clients)]
    spikes = [False] * clients
    latencies: list[float] = []
    connected = 0
    all_connected = asyncio.Event()

    def note_latency(timestamp: str) -> None:
        taken = datetime.fromisoformat(timestamp).timestamp()
        latencies.append(1000 * (time.time() - taken))

    def note(index: int, data: list[dict[str, Any]]) -> None:
        counts[index] += sum(item.get("Count", 1) for item in data)
        items[index] += len(data)
        sensors[index].update(item["Name"] for item in data)
        if not spikes[index]:
            spikes[index] = any(item.get("Max", item["Value"]) >= SPIKE for item in data)

    async def one(index: int) -> None:
        nonlocal connected
        async with connect(url, compression=None, max_size=2**24, open_timeout=30) as ws:
            if batch:
                await ws.send('{"type":"hello","data":{"batch":true}}')
            await ws.send('{"type":"discover"}')
            connected += 1
            if connected == clients:
                all_connected.set()
            seen = 0
            async for message in ws:
                assert isinstance(message, str)
                if message.startswith('{"type":"reading"'):
                    data = orjson.loads(message)["data"]
                    note(index, [data])
                    seen += 1
                    if seen % LATENCY_SAMPLE_EVERY == 0:
                        note_latency(data["Timestamp"])
                elif message.startswith('{"type":"readings"'):
                    batch_data = orjson.loads(message)["data"]
                    note(index, batch_data)
                    seen += 1
                    if seen % 10 == 0:
                        note_latency(batch_data[-1]["Timestamp"])

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with asyncio.TaskGroup() as tasks:
        for index in range(clients):
            tasks.create_task(one(index))
        while line := (await stdin.readline()).strip():
            if line == b"ready":
                await all_connected.wait()
            report = {
                "counts": counts,
                "items": items,
                "sensors": [len(names) for names in sensors],
                "spikes": spikes,
                "latency_ms": latencies,
            }
            sys.stdout.write(orjson.dumps(report).decode() + "\n")
            sys.stdout.flush()
        os._exit(0)  # the parent is done with us: no need to close 25 sockets politely


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bridge", description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--sensors", type=int, default=SENSORS)
    parser.add_argument(
        "--freq", type=float, help=f"Hz per sensor (default {FREQ_HZ}; 10 with --page)"
    )
    parser.add_argument("--batch", action="store_true")
    parser.add_argument(
        "--max-rate", type=float, help="the bridge's --max-rate-per-sensor (its default if unset)"
    )
    parser.add_argument("--page", action="store_true", help="measure the page in Chromium")
    parser.add_argument("--client-worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_worker:
        asyncio.run(_client_worker(args.client_worker, args.clients, args.batch))
        return 0
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)
    if args.page:
        result = asyncio.run(run_page(args.duration, sensors=args.sensors, freq=args.freq or 10.0))
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    result = asyncio.run(
        run(
            args.duration,
            clients=args.clients,
            sensors=args.sensors,
            freq=args.freq or FREQ_HZ,
            batch=args.batch,
            max_rate=args.max_rate,
        )
    )
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
