"""`python -m bench CASE [--duration S] [--json FILE] [--runs N] [--no-ceiling] ...`

Cases: pipeline, datamanager, coordinator, ceiling, and tui, bridge, soak, codec, claims,
replay and history (from their own modules). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika

from bench import ceiling, coordinator, datamanager, pipeline
from bench.report import add_ratios, machine, table, write_json
from controlroom.errors import DatabaseUnavailable

log = logging.getLogger("bench")

PLUGGED = {
    "tui": "bench.tui",
    "bridge": "bench.bridge",
    "soak": "bench.soak",
    "codec": "bench.codec",
    "claims": "bench.claims",
    "replay": "bench.replay",
    "history": "bench.history",
}
PLUGGED_DURATION_S = {
    "tui": 30.0,
    "bridge": 30.0,
    "soak": 600.0,
    "codec": 9.0,
    "claims": 120.0,
    "replay": 12.0,
    "history": 3.0,  # each ingest round
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "case", choices=["pipeline", "datamanager", "coordinator", "ceiling", *PLUGGED]
    )
    parser.add_argument("--duration", type=float, help="measured seconds (case default if unset)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    parser.add_argument("--runs", type=int, default=1, help="repeat the case; JSON keeps medians")
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip measuring the raw limits in the same run"
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    load = parser.add_argument_group("pipeline")
    load.add_argument("--sensors", type=int, default=6000, help="sensors in all (pipeline)")
    load.add_argument("--freq", type=float, default=10.0, help="readings/s per sensor (pipeline)")
    load.add_argument("--gateways", type=int, default=4, help="gateway processes (pipeline)")
    load.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    load.add_argument("--writers", type=int, default=2, help="datamanager writers")
    load.add_argument(
        "--cluster",
        action="store_true",
        help="run on one node with classic queues, then on the local 3-node cluster "
        "(scripts/cluster) with quorum queues, and compare",
    )
    load.add_argument(
        "--tls",
        action="store_true",
        help="run on a broker node and a PostgreSQL instance the bench starts, first without "
        "TLS, then with TLS to both, and compare (CPU per 1,000 readings of each process)",
    )
    fill = parser.add_argument_group("datamanager and coordinator (pre-filled queues)")
    fill.add_argument(
        "--readings", type=int, help="readings to pre-fill (history: stored; default 10 M)"
    )
    fill.add_argument("--frame-size", type=int, default=1000, help="readings per frame")
    fill.add_argument("--sources", type=int, default=4, help="source queues (coordinator)")
    fill.add_argument("--frames-per-batch", type=int, default=4, help="frames per persist message")
    return parser


def case_runner(args: argparse.Namespace) -> Callable[[], Awaitable[dict[str, Any]]]:
    if args.case == "pipeline":
        load = pipeline.Load(
            sensors=args.sensors,
            freq=args.freq,
            gateways=args.gateways,
            writers=args.writers,
            warmup=args.warmup,
            duration=args.duration or 60.0,
        )
        if args.cluster and args.tls:
            build_parser().error("--cluster and --tls are two comparisons: choose one")
        if args.cluster:
            return lambda: pipeline.run_on_cluster(load)
        if args.tls:
            return lambda: pipeline.run_with_tls(load)
        return lambda: pipeline.run(load)
    if args.case == "datamanager":
        dm_fill = datamanager.Fill(
            readings=args.readings or 2_000_000,
            sensors=args.frame_size,
            frames_per_batch=args.frames_per_batch,
            writers=args.writers,
        )
        return lambda: datamanager.run(dm_fill)
    if args.case == "coordinator":
        default = 30_000 if args.frame_size == 1 else 2_000_000
        co_fill = coordinator.Fill(
            readings=args.readings or default, sources=args.sources, frame_size=args.frame_size
        )
        return lambda: coordinator.run(co_fill)
    if args.case == "ceiling":
        return lambda: ceiling.run(args.duration or ceiling.PHASE_S)
    extra = {"readings": args.readings} if args.case == "history" and args.readings else {}
    return plugged(args.case, args.duration or PLUGGED_DURATION_S[args.case], **extra)


def plugged(case: str, duration: float, **options: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A case another module provides (`async def run(duration) -> dict`, or with the
    `options` it takes), imported lazily."""

    async def run() -> dict[str, Any]:
        try:
            module = importlib.import_module(PLUGGED[case])
        except ModuleNotFoundError as error:
            if error.name != PLUGGED[case]:
                raise
            return {"case": case, "available": False, "note": "not available yet"}
        result: dict[str, Any] = await module.run(duration=duration, **options)
        return {"case": case, **result}

    return run


RERUNS = 6
SERVICE_ERRORS = (OSError, aio_pika.exceptions.AMQPError, DatabaseUnavailable)


async def run_once(runner: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Run a case; if the broker or the database went away under it, wait and run it again."""
    for attempt in range(RERUNS):
        try:
            return await runner()
        except SERVICE_ERRORS as error:
            if attempt == RERUNS - 1:
                raise
            log.warning("a service went away during the run (%s); running it again", error)
            await asyncio.sleep(15.0)
    raise AssertionError("unreachable")


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    runner = case_runner(args)
    results = []
    for run in range(args.runs):
        limits = None
        if args.case in ("pipeline", "datamanager", "coordinator") and not args.no_ceiling:
            log.info("measuring the raw limits first")
            limits = await run_once(ceiling.run)
        log.info("running %s (%d of %d)", args.case, run + 1, args.runs)
        result = await run_once(runner)
        add_ratios(result, limits)
        print(table(result), flush=True)
        results.append(result)
    return results


def main() -> int:
    args = build_parser().parse_args()
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)
    log.info("machine: %s", machine())
    results = asyncio.run(main_async(args))
    if args.json:
        write_json(args.json, results)
        log.info("wrote %s", args.json)
    failed = any(r.get("audit_clean") is False or r.get("complete") is False for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
