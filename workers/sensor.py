"""`controlroom-worker sensor`: one simulated sensor.

Its flags, their bounds and its command line have one home, `controlroom.simulation.sensor`,
which the control room's spawn form uses too. The original system's single-dash flags (-name,
-min, -max, -step, -freq) work as well, so old command lines keep working.
"""

from __future__ import annotations

import argparse

from controlroom.config import Settings
from controlroom.errors import ConfigError
from controlroom.simulation import sensor
from workers.gateway import DEFAULT_BUFFER_READINGS, Gateway
from workers.lifecycle import stop_on_signals

HELP = "a simulated sensor publishing a bounded random walk"


def configure(parser: argparse.ArgumentParser) -> None:
    sensor.add_flags(parser)
    add_buffer_argument(parser)


def add_buffer_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--buffer",
        type=int,
        default=DEFAULT_BUFFER_READINGS,
        metavar="READINGS",
        help="readings kept while the broker is away; beyond it the oldest are dropped "
        f"(default {DEFAULT_BUFFER_READINGS:,})",
    )


def check_buffer(args: argparse.Namespace) -> None:
    if args.buffer < 1:
        raise ConfigError("--buffer must be at least 1 reading")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    simulated = sensor.from_args(args)
    check_buffer(args)
    gateway = Gateway(
        settings,
        simulated.info.name,
        [simulated],
        buffer_readings=args.buffer,
        fault_epoch=args.fault_epoch,
    )
    with stop_on_signals() as stopping:
        return await gateway.run(stopping)
