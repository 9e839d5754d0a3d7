"""TUI load case: 200 sensors at 10 Hz each into a running `controlroom`, in a real terminal.

The control room runs as its own process inside tmux (a real pseudo-terminal, as an operator
has), in a fresh plant namespace. This process publishes the load straight onto the plant's
events exchange, as the coordinator does, in two modes:
- gateway: one frame per tick carrying all 200 readings, as `controlroom-worker sensors
  --count 200 --freq 10` publishes and the coordinator passes on (10 messages a second);
- per_sensor: one message per sensor per tick, as 200 separate sensor processes would give
  (2,000 messages a second: the AMQP client's per-message cost dominates).

Measured per mode:
- cpu_share: CPU seconds of the UI process per wall second under load (1.0 = one core);
- refreshes_per_s: full repaints of the sensor table per second (the app reports them);
- key_to_screen_ms: from sending `p` until the UI has written PAUSED to its terminal, heard
  by a tmux control-mode client (no polling, so the measurement takes no CPU from the UI).
Targets (issue 3): cpu_share < 0.30 while refreshing ~10 times a second; key_to_screen < 100 ms.
The machine's load average is recorded with the figures: on a busy box, every number suffers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import random
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aio_pika
import psutil

from controlroom.broker.topology import Topology, reading_key, source_key
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.db import ensure_database, migrate
from controlroom.db.migrations import drop_plant
from controlroom.errors import DatabaseUnavailable
from controlroom.plant.readings import Frame
from controlroom.plant.sensors import Liveness, SensorInfo
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import SourceState

log = logging.getLogger("bench.tui")

SENSORS = 200
FREQ_HZ = 10.0
KEY_PRESSES = 20
TERMINAL = (120, 50)
READY_TIMEOUT_S = 30.0
KEY_TIMEOUT_S = 2.0
TARGET_CPU_SHARE = 0.30
TARGET_REFRESHES = 10
TARGET_KEY_MS = 100
REPO = Path(__file__).resolve().parents[1]
# Set BENCH_TUI_PROFILE=FILE to run the UI under cProfile (for finding where its time goes).
PROFILE = os.environ.get("BENCH_TUI_PROFILE")


MODES = ("gateway", "per_sensor")


async def run(
    duration: float, *, modes: tuple[str, ...] = MODES, sensors: int = SENSORS
) -> dict[str, Any]:
    """Each mode for `duration` measured seconds; figures flat as `<mode>_<name>` (for the
    bench table) and in full under each mode's name.

    gateway: one frame per tick carries all readings (as `controlroom-worker sensors` sends
    them); per_sensor: one message per sensor per tick (200 separate sensor processes).
    """
    if not have_tmux():
        raise RuntimeError("the TUI case needs tmux (apt-get install -y tmux)")
    result: dict[str, Any] = {
        "sensors": sensors,
        "freq_hz": FREQ_HZ,
        "duration_s": duration,
        "terminal": f"{TERMINAL[0]}x{TERMINAL[1]}",
    }
    for mode in modes:
        figures = await run_mode(duration, gateway=mode == "gateway", sensors=sensors)
        result[mode] = figures
        keys = figures.pop("key_to_screen_ms")
        for name, value in figures.items():
            result[f"{mode}_{name}"] = value
        for name in ("median", "p95", "max"):
            result[f"{mode}_key_to_screen_ms_{name}"] = keys[name]
        result[f"{mode}_meets_targets"] = (
            figures["cpu_share"] < TARGET_CPU_SHARE
            and figures["refreshes_per_s"] >= TARGET_REFRESHES * 0.9
            and keys["p95"] < TARGET_KEY_MS
        )
        figures["key_to_screen_ms"] = keys
    result["targets"] = {
        "cpu_share_below": TARGET_CPU_SHARE,
        "refreshes_per_s": TARGET_REFRESHES,
        "key_to_screen_ms_p95_below": TARGET_KEY_MS,
    }
    return result


async def run_mode(duration: float, *, gateway: bool, sensors: int) -> dict[str, Any]:
    """One load for `duration` seconds of measurement, in a fresh plant namespace."""
    base = Settings.from_env()
    settings = dataclasses.replace(base, plant=f"bench_tui_{secrets.token_hex(4)}")
    await ensure_database(settings)
    await migrate(settings)
    workdir = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    try:
        async with (
            _publisher(settings, sensors, gateway) as publisher,
            tui_in_tmux(settings, workdir) as ui,
        ):
            await _wait_ready(ui, publisher)
            figures = await _measure(ui, duration)
            figures["key_to_screen_ms"] = await _key_latency(ui, KEY_PRESSES)
            figures["published_per_s"] = round(publisher.rate(), 1)
    finally:
        try:
            await drop_plant(settings)
            await _delete_topology(settings)
        except (DatabaseUnavailable, OSError, aio_pika.exceptions.AMQPError) as error:
            log.warning("could not clean up plant %s: %s", settings.plant, error)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures


# --- the load -------------------------------------------------------------------------------


class Publisher:
    """Publishes every sensor's reading at FREQ_HZ on the events exchange, in a task it owns."""

    def __init__(self, exchange: aio_pika.abc.AbstractExchange, names: list[str], gateway: bool):
        self._exchange = exchange
        self._names = names
        self._gateway = gateway
        self.sensors = len(names)
        self.readings = 0
        self._started = time.monotonic()
        self._seq = 0

    def rate(self) -> float:
        return self.readings / max(time.monotonic() - self._started, 1e-9)

    async def announce(self) -> None:
        for n, name in enumerate(self._names):
            info = SensorInfo(name, f"SN-{n:04d}", "bar", 2.0, 8.0, period_s=1 / FREQ_HZ)
            state = SourceState(info, Liveness.LIVE)
            await self._exchange.publish(
                _message(encode(state)), routing_key=source_key(name), mandatory=False
            )

    async def run(self) -> None:
        period = 1 / FREQ_HZ
        values = {name: random.uniform(3, 7) for name in self._names}
        next_tick = time.monotonic()
        self._started = next_tick
        while True:
            self._seq += 1
            taken = now_us()
            for name in self._names:
                values[name] = min(max(values[name] + random.uniform(-0.2, 0.2), 2.5), 7.5)
            if self._gateway:
                frame = Frame(
                    "bench_gateway",
                    "bench-run",
                    list(self._names),
                    [self._seq] * len(self._names),
                    [taken] * len(self._names),
                    [values[name] for name in self._names],
                )
                await self._exchange.publish(
                    _message(encode(frame)), routing_key=reading_key(frame.source), mandatory=False
                )
            else:
                for name in self._names:
                    frame = Frame(name, "bench-run", [name], [self._seq], [taken], [values[name]])
                    await self._exchange.publish(
                        _message(encode(frame)), routing_key=reading_key(name), mandatory=False
                    )
            self.readings += len(self._names)
            next_tick += period
            await asyncio.sleep(max(next_tick - time.monotonic(), 0))


def _message(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(body, content_type="application/json")


@contextlib.asynccontextmanager
async def _publisher(settings: Settings, sensors: int, gateway: bool) -> AsyncIterator[Publisher]:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=False)  # as fast as it can go
        exchange = await Topology.of(settings).events(channel)
        names = [f"bench_s{n:03d}" for n in range(sensors)]
        publisher = Publisher(exchange, names, gateway)
        async with asyncio.TaskGroup() as group:
            task = group.create_task(publisher.run())
            try:
                yield publisher
            finally:
                task.cancel()
    finally:
        await connection.close()


# --- the UI in tmux -------------------------------------------------------------------------


class UI:
    def __init__(self, session: str, pid: int, stats: Path) -> None:
        self.session = session
        self.process = psutil.Process(pid)
        self.stats = stats

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def counters(self) -> dict[str, float]:
        lines = self.stats.read_bytes().splitlines() if self.stats.exists() else []
        return json.loads(lines[-1]) if lines else {}


@contextlib.asynccontextmanager
async def tui_in_tmux(settings: Settings, workdir: Path, *args: str) -> AsyncIterator[UI]:
    """`controlroom ARGS` on the plant, in a tmux session of its own; quit and gone after."""
    session = f"bench_tui_{secrets.token_hex(3)}"
    stats = workdir / "stats.jsonl"
    profile = f"-m cProfile -o {shlex.quote(str(PROFILE))}" if PROFILE else ""
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in settings.as_env().items())
    command = (
        f"cd {shlex.quote(str(REPO))} && exec env {env} {shlex.quote(sys.executable)} "
        f"{profile} -m controlroom.cli --operator bench --log-dir {shlex.quote(str(workdir))} "
        f"--stats-file {shlex.quote(str(stats))} {shlex.join(args)}"
    )
    width, height = TERMINAL
    await _tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
    ui: UI | None = None
    try:
        pid = int((await _tmux("list-panes", "-t", session, "-F", "#{pane_pid}")).split()[0])
        ui = UI(session, pid, stats)
        yield ui
    finally:
        await _tmux("send-keys", "-t", session, "q", check=False)
        if ui is not None:
            with contextlib.suppress(psutil.Error):
                await asyncio.to_thread(ui.process.wait, 15)  # it closes its connections first
        await _tmux("kill-session", "-t", session, check=False)


async def _tmux(*args: str, check: bool = True) -> str:
    process = await asyncio.create_subprocess_exec(
        "tmux", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if check and process.returncode != 0:
        raise RuntimeError(f"tmux {args[0]} failed: {err.decode().strip()}")
    return out.decode()


async def _wait_ready(ui: UI, publisher: Publisher) -> None:
    """The UI is up when it has every sensor and readings flow."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    announced_at = 0.0
    while time.monotonic() < deadline:
        counters = ui.counters()
        if counters and time.monotonic() - announced_at > 2.0:
            await publisher.announce()  # again until the UI's queue surely heard it
            announced_at = time.monotonic()
        if counters.get("sensors", 0) >= publisher.sensors and counters.get("readings", 0):
            await asyncio.sleep(2.0)  # past start-up: history load, first layout
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the UI did not show the load within {READY_TIMEOUT_S}s:\n{ui.screen()}")


async def _measure(ui: UI, duration: float) -> dict[str, Any]:
    before, cpu_before, t0 = ui.counters(), ui.process.cpu_times(), time.monotonic()
    await asyncio.sleep(duration)
    after, cpu_after, t1 = ui.counters(), ui.process.cpu_times(), time.monotonic()
    wall = t1 - t0
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    span = max(after["t"] - before["t"], 1e-9)
    return {
        "cpu_share": round(cpu / wall, 3),
        "refreshes_per_s": round((after["paints"] - before["paints"]) / span, 2),
        "redraws_per_s": round((after["redraws"] - before["redraws"]) / span, 2),
        "ui_readings_per_s": round((after["readings"] - before["readings"]) / span, 1),
        "ui_rss_mb": round(ui.process.memory_info().rss / 2**20, 1),
    }


async def _key_latency(ui: UI, presses: int) -> dict[str, float]:
    """Press `p` (pause) and time it until the UI writes PAUSED to its terminal.

    A tmux control-mode client sends the key and hears the pane's output as it is written, so
    nothing polls (polling capture-pane would take the CPU the UI needs). Each measured press
    is undone by a second, unmeasured one, after which the view runs live again.
    """
    process = await asyncio.create_subprocess_exec(
        "tmux", "-C", "attach-session", "-t", ui.session,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    stdout = process.stdout
    heard: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def listen() -> None:
        """Every line of pane output, stamped when it arrived."""
        while line := await stdout.readline():
            if line.startswith(b"%output"):
                heard.put_nowait((time.perf_counter(), line))

    async def send(command: str) -> None:
        assert process.stdin is not None
        process.stdin.write(command.encode() + b"\n")
        await process.stdin.drain()

    async def until(wanted: Callable[[bytes], bool]) -> float:
        while True:
            at, line = await heard.get()
            if wanted(line):
                return at

    def drain() -> None:
        while not heard.empty():
            heard.get_nowait()

    delays = []
    try:
        async with asyncio.TaskGroup() as group:
            listener = group.create_task(listen())
            await send(f"refresh-client -C {TERMINAL[0]}x{TERMINAL[1]}")
            for _ in range(presses):
                await asyncio.sleep(random.uniform(0.2, 0.4))
                drain()
                start = time.perf_counter()
                await send(f"send-keys -t {ui.session} p")
                shown = await asyncio.wait_for(until(lambda line: b"PAUSED" in line), KEY_TIMEOUT_S)
                delays.append((shown - start) * 1000)
                await asyncio.sleep(random.uniform(0.1, 0.2))
                await send(f"send-keys -t {ui.session} p")  # resume; wait until it shows
                await asyncio.wait_for(
                    until(lambda line: b"readings/s" in line and b"PAUSED" not in line),
                    KEY_TIMEOUT_S,
                )
            listener.cancel()
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await process.wait()
    delays.sort()
    return {
        "median": round(statistics.median(delays), 1),
        "p95": round(delays[int(0.95 * (len(delays) - 1))], 1),
        "max": round(delays[-1], 1),
        "presses": presses,
    }


async def _delete_topology(settings: Settings) -> None:
    topology = Topology.of(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(topology.requests_queue)
        await channel.exchange_delete(topology.events_exchange)
        await channel.exchange_delete(topology.stops_exchange)
    finally:
        await connection.close()


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tui", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per mode")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--sensors", type=int, default=SENSORS)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    modes = MODES if args.mode == "both" else (args.mode,)
    try:
        figures = asyncio.run(run(args.duration, modes=modes, sensors=args.sensors))
    except (DatabaseUnavailable, RuntimeError, OSError, aio_pika.exceptions.AMQPError) as error:
        sys.stderr.write(f"bench tui: error: {error}\n")
        return 2
    text = json.dumps({"case": "tui", **figures}, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
