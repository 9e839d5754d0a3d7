"""`soak`: a plant at a fixed load for a long while; memory and backlog must stay flat.

One gateway (`sensors --count K --freq F`), a coordinator and a datamanager run for `duration`
seconds (30 minutes by default). Every few seconds the soak samples each worker's resident
memory (RSS), the messages waiting on the gateway's readings queue and on the persist queue,
and the readings stored. After a warm-up (imports, caches and pools fill in the first minute),
it fits a least-squares line to each series: the slope is the figure that says "flat", and the
growth is the slope times the measured window. At the end the gateway says goodbye, the plant
drains and the audit must be clean.

Run it: `python -m bench.soak [--duration 1800] [--sensors 200] [--freq 10] [--out DIR]`; it
prints a table and writes soak.json and soak.png (matplotlib when installed, else a text plot
in soak.txt). `async def run(duration) -> dict` is what `python -m bench soak` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import orjson
import psutil

from bench.harness import BenchPlant, Reconnecting
from controlroom.db.audit import AuditReport, audit

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 1800.0
DEFAULT_SENSORS = 200
DEFAULT_FREQ_HZ = 10.0
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
STARTUP_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 120.0
# Flat means: over the measured window, no worker's RSS grew more than this, and the backlog
# did not grow by more than a few seconds of load.
RSS_GROWTH_LIMIT_MB = 8.0
BACKLOG_GROWTH_LIMIT_S = 5.0
WORKERS = ("gateway", "coordinator", "datamanager")


@dataclass(frozen=True, slots=True)
class Load:
    sensors: int = DEFAULT_SENSORS
    freq: float = DEFAULT_FREQ_HZ

    @property
    def readings_per_s(self) -> float:
        return self.sensors * self.freq


@dataclass(slots=True)
class Sample:
    t: float  # seconds since the start
    rss_mb: dict[str, float]
    readings_ready: int
    persist_ready: int
    stored: int


@dataclass(slots=True)
class Series:
    samples: list[Sample] = field(default_factory=list)

    def column(self, pick: Any) -> tuple[list[float], list[float]]:
        return [s.t for s in self.samples], [float(pick(s)) for s in self.samples]


def sample_interval(duration: float) -> float:
    """Every few seconds: 5 s for a long soak, more often for a short one (>= 60 samples)."""
    return max(1.0, min(5.0, duration / 60))


def warmup(duration: float) -> float:
    return min(60.0, duration * 0.2)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (units of y per unit of x); 0 for < 2 points."""
    n = len(xs)
    if n < 2:
        return 0.0
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


async def run(
    duration: float = DEFAULT_DURATION_S, load: Load | None = None, out: Path | None = None
) -> dict[str, Any]:
    load = load or Load()
    out = out or DEFAULT_OUT
    series = Series()
    async with BenchPlant() as plant:
        source = "soak-gateway"
        plant.extra_queues.append(plant.topology.readings_queue(source))
        gateway = plant.worker(
            "gateway",
            "sensors",
            "--count",
            str(load.sensors),
            "--freq",
            str(load.freq),
            "--prefix",
            "soak",
            "--source",
            source,
        )
        plant.worker("coordinator", "coordinator")
        plant.worker("datamanager", "datamanager")
        db = Reconnecting(plant)
        try:
            await wait_stored(plant, db, 1, STARTUP_TIMEOUT_S)
            series = await sample_for(plant, db, duration, source)
            plant.check_alive()
            await gateway.stopped()
            report = await drained(db, load.sensors, DRAIN_TIMEOUT_S)
        finally:
            await db.close()
    result = summarise(series, load, duration)
    result |= {
        "audit_clean": report.clean,
        "audit_stored": report.stored,
        "audit_missing": report.missing,
        "audit_duplicates": report.duplicates,
    }
    result["files"] = write_outputs(series, result, out)
    return result


async def wait_stored(plant: BenchPlant, db: Reconnecting, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await db.fetchval("SELECT count(*) FROM sensor_reading") < at_least:
        plant.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError("the plant stored nothing: see the worker logs")
        await asyncio.sleep(0.5)


async def sample_for(plant: BenchPlant, db: Reconnecting, duration: float, source: str) -> Series:
    series = Series()
    interval = sample_interval(duration)
    processes = {name: psutil.Process(plant.children[name].pid) for name in WORKERS}
    start = time.monotonic()
    next_at = start
    while (now := time.monotonic()) - start <= duration:
        plant.check_alive()
        try:
            readings_ready, persist_ready = await depths(plant, source)
        except Exception as error:  # the broker restarting (another suite's fault case)
            log.warning("no sample at t=%.0fs: %s", now - start, error)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            continue
        stored = int(await db.fetchval("SELECT count(*) FROM sensor_reading"))
        series.samples.append(
            Sample(
                t=round(now - start, 2),
                rss_mb={n: round(p.memory_info().rss / 2**20, 2) for n, p in processes.items()},
                readings_ready=readings_ready,
                persist_ready=persist_ready,
                stored=stored,
            )
        )
        last = series.samples[-1]
        log.info(
            "t=%5.0fs rss %s readings %d persist %d stored %d",
            last.t,
            " ".join(f"{n}={v:.1f}MB" for n, v in last.rss_mb.items()),
            readings_ready,
            persist_ready,
            stored,
        )
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return series


async def depths(plant: BenchPlant, source: str) -> tuple[int, int]:
    connection = await aio_pika.connect(plant.settings.amqp_url)
    try:
        channel = await connection.channel()
        counts = []
        for name in (plant.topology.readings_queue(source), plant.topology.persist_queue):
            queue = await channel.declare_queue(name, passive=True)
            counts.append(int(queue.declaration_result.message_count or 0))
        return counts[0], counts[1]
    finally:
        await connection.close()


async def drained(db: Reconnecting, sensors: int, timeout: float) -> AuditReport:
    """Wait until every sensor's goodbye is stored and the audit is clean (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        report = await db.run(lambda connection: audit(connection))
        reported = sum(run.confirmed_seq is not None for run in report.runs)
        if (report.clean and reported >= sensors) or time.monotonic() > deadline:
            return report
        await asyncio.sleep(1.0)


def summarise(series: Series, load: Load, duration: float) -> dict[str, Any]:
    measured = [s for s in series.samples if s.t >= warmup(duration)]
    window = (measured[-1].t - measured[0].t) if len(measured) > 1 else 0.0
    xs_h = [s.t / 3600 for s in measured]
    rss: dict[str, dict[str, float]] = {}
    for name in WORKERS:
        ys = [s.rss_mb[name] for s in measured]
        per_h = slope(xs_h, ys)
        rss[name] = {
            "start_mb": ys[0] if ys else 0.0,
            "end_mb": ys[-1] if ys else 0.0,
            "max_mb": max(ys, default=0.0),
            "slope_mb_per_h": round(per_h, 3),
            "growth_mb": round(per_h * window / 3600, 3),
        }
    xs_min = [s.t / 60 for s in measured]
    backlog = [float(s.readings_ready + s.persist_ready) for s in measured]
    backlog_slope = slope(xs_min, backlog)
    stored = [float(s.stored) for s in measured]
    rate = slope([s.t for s in measured], stored)
    # Messages per second, roughly: one frame per tick from the gateway.
    backlog_limit = BACKLOG_GROWTH_LIMIT_S * load.freq
    flat_rss = all(abs(r["growth_mb"]) <= RSS_GROWTH_LIMIT_MB for r in rss.values())
    flat_backlog = abs(backlog_slope * window / 60) <= backlog_limit
    return {
        "case": "soak",
        "sensors": load.sensors,
        "freq_hz": load.freq,
        "offered_readings_per_s": load.readings_per_s,
        "stored_readings_per_s": round(rate, 1),
        "duration_s": duration,
        "warmup_s": warmup(duration),
        "measured_s": round(window, 1),
        "samples": len(series.samples),
        "sample_interval_s": sample_interval(duration),
        "backlog_max_messages": int(max(backlog, default=0)),
        "backlog_slope_messages_per_min": round(backlog_slope, 3),
        "rss_flat": flat_rss,
        "backlog_flat": flat_backlog,
        "flat": flat_rss and flat_backlog,
        "rss": rss,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"soak: {result['sensors']} sensors x {result['freq_hz']:g} Hz = "
        f"{result['offered_readings_per_s']:,.0f} readings/s offered, "
        f"{result['stored_readings_per_s']:,.0f}/s stored; "
        f"{result['measured_s']:.0f} s measured after {result['warmup_s']:.0f} s warm-up, "
        f"{result['samples']} samples",
        f"{'process':<12} {'RSS start':>10} {'RSS end':>9} {'max':>7} {'slope MB/h':>11} "
        f"{'growth MB':>10}",
    ]
    for name, r in result["rss"].items():
        lines.append(
            f"{name:<12} {r['start_mb']:>10.1f} {r['end_mb']:>9.1f} {r['max_mb']:>7.1f} "
            f"{r['slope_mb_per_h']:>11.2f} {r['growth_mb']:>10.2f}"
        )
    lines.append(
        f"backlog (readings + persist ready): max {result['backlog_max_messages']} messages, "
        f"slope {result['backlog_slope_messages_per_min']:+.2f} messages/min"
    )
    verdict = "FLAT" if result["flat"] else "NOT FLAT"
    audit_verdict = "clean" if result.get("audit_clean") else "NOT CLEAN"
    lines.append(
        f"verdict: {verdict} (RSS {'flat' if result['rss_flat'] else 'growing'}, backlog "
        f"{'flat' if result['backlog_flat'] else 'growing'}); audit {audit_verdict}: "
        f"{result.get('audit_stored', 0):,} stored, {result.get('audit_missing', 0)} missing, "
        f"{result.get('audit_duplicates', 0)} duplicates"
    )
    return "\n".join(lines)


def write_outputs(series: Series, result: dict[str, Any], out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "soak.json")}
    document = result | {"series": [asdict(s) for s in series.samples]}
    (out / "soak.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    (out / "soak.txt").write_text(table(result) + "\n")
    files["table"] = str(out / "soak.txt")
    try:
        files["plot"] = str(plot_png(series, result, out / "soak.png"))
    except ImportError:  # matplotlib is a dev extra; a text plot says the same
        files["plot"] = str(plot_text(series, out / "soak.txt"))
    return files


def plot_png(series: Series, result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (memory, backlog) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for name in WORKERS:
        xs, ys = series.column(lambda s, n=name: s.rss_mb[n])
        memory.plot([x / 60 for x in xs], ys, label=name)
    memory.set_ylabel("RSS (MB)")
    memory.axvline(result["warmup_s"] / 60, color="grey", linestyle=":", label="warm-up ends")
    memory.legend(loc="upper left", fontsize="small")
    memory.set_title(
        f"soak: {result['sensors']} sensors x {result['freq_hz']:g} Hz "
        f"({result['offered_readings_per_s']:,.0f} readings/s)"
    )
    for label, pick in (
        ("readings queue", lambda s: s.readings_ready),
        ("persist queue", lambda s: s.persist_ready),
    ):
        xs, ys = series.column(pick)
        backlog.plot([x / 60 for x in xs], ys, label=label)
    backlog.set_ylabel("messages ready")
    backlog.set_xlabel("minutes")
    backlog.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_text(series: Series, path: Path) -> Path:
    import plotext

    plotext.clear_figure()
    plotext.plotsize(100, 30)
    for name in WORKERS:
        xs, ys = series.column(lambda s, n=name: s.rss_mb[n])
        plotext.plot([x / 60 for x in xs], ys, label=f"{name} RSS MB")
    plotext.xlabel("minutes")
    with path.open("a") as sink:
        sink.write(plotext.build() + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument(
        "--sensors", type=int, default=DEFAULT_SENSORS, help="sensors (one gateway)"
    )
    parser.add_argument("--freq", type=float, default=DEFAULT_FREQ_HZ, help="readings/s per sensor")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the files go")
    args = parser.parse_args(argv)
    if args.duration < 10 or args.sensors < 1 or args.freq <= 0:
        parser.error("--duration must be at least 10 s, --sensors and --freq positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)
    result = asyncio.run(run(args.duration, Load(args.sensors, args.freq), args.out))
    print(table(result))
    print("files: " + ", ".join(f"{k} {v}" for k, v in result["files"].items()))
    return 0 if result["flat"] and result["audit_clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
