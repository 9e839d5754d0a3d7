"""`controlroom-worker coordinator`: discovers sources, turns readings into events.

Handlers on an in-process event aggregator: persistence (to the datamanager), viewer events,
alarms (each sensor's stored definitions, holds, acknowledgements), liveness and twin runs (one
sensor read by two sources at once). Several coordinators may run at once: each source's queue
has a single active consumer, so each reading is handled once and in order.
"""

from __future__ import annotations

import argparse
import math

from controlroom.config import Settings
from controlroom.errors import ConfigError
from workers.coordinator.service import Coordinator
from workers.lifecycle import stop_on_signals

HELP = "discovers sensors, raises alarms and liveness events, forwards readings for storage"

__all__ = ["HELP", "Coordinator", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--persist-interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="store at most one reading per sensor per interval (default 0: store every reading)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not math.isfinite(args.persist_interval) or args.persist_interval < 0:
        raise ConfigError("--persist-interval must be zero or a positive number of seconds")
    coordinator = Coordinator(settings, persist_interval=args.persist_interval)
    with stop_on_signals() as stopping:
        return await coordinator.run(stopping)
