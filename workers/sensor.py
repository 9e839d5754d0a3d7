"""`controlroom-worker sensor`: one simulated sensor.

The original system's single-dash flags (-name, -min, -max, -step, -freq) work too, so old
command lines keep working.
"""

from __future__ import annotations

import argparse
import math

from controlroom.config import ConfigError, Settings
from controlroom.messages import InvalidMessage, SensorInfo, check_sensor_name
from controlroom.presets import SimulatedSensor
from workers.gateway import DEFAULT_BUFFER_READINGS, Gateway
from workers.lifecycle import stop_on_signals

HELP = "a simulated sensor publishing a bounded random walk"
MAX_FREQ_HZ = 1000.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", "-name", required=True, help="sensor name (1-64 characters)")
    parser.add_argument("--min", "-min", type=float, default=1.0, help="lowest value (default 1)")
    parser.add_argument("--max", "-max", type=float, default=5.0, help="highest value (default 5)")
    parser.add_argument(
        "--step", "-step", type=float, default=0.1, help="largest change per tick (default 0.1)"
    )
    parser.add_argument(
        "--freq", "-freq", type=float, default=5.0, help="readings per second (default 5)"
    )
    parser.add_argument("--unit", default="", help="unit of measure, e.g. MPa")
    parser.add_argument("--serial", default="", help="serial number")
    parser.add_argument("--safe-min", type=float, help="lowest safe value (alarm limit)")
    parser.add_argument("--safe-max", type=float, help="highest safe value (alarm limit)")
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


def simulated_sensor(args: argparse.Namespace) -> SimulatedSensor:
    """The sensor the flags describe, or ConfigError naming the first bad flag."""
    try:
        name = check_sensor_name(args.name)
    except InvalidMessage as error:
        raise ConfigError(f"--name: {error}") from None
    check_walk(args.min, args.max, args.step, args.freq)
    if args.safe_min is not None and args.safe_max is not None and args.safe_min > args.safe_max:
        raise ConfigError("--safe-min must not be above --safe-max")
    for flag in ("safe_min", "safe_max"):
        value = getattr(args, flag)
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"--{flag.replace('_', '-')} must be a finite number")
    check_buffer(args)
    return SimulatedSensor(
        info=SensorInfo(
            name=name,
            serial_no=args.serial,
            unit=args.unit,
            safe_min=args.safe_min,
            safe_max=args.safe_max,
            period_s=1.0 / args.freq,
        ),
        minimum=args.min,
        maximum=args.max,
        step=args.step,
        freq_hz=args.freq,
    )


def check_walk(minimum: float, maximum: float, step: float, freq: float) -> None:
    if not all(math.isfinite(v) for v in (minimum, maximum, step, freq)):
        raise ConfigError("--min, --max, --step and --freq must be finite numbers")
    if minimum >= maximum:
        raise ConfigError(f"--min ({minimum:g}) must be below --max ({maximum:g})")
    if step <= 0:
        raise ConfigError(f"--step must be positive, not {step:g}")
    if not 0 < freq <= MAX_FREQ_HZ:
        raise ConfigError(f"--freq must be above 0 and at most {MAX_FREQ_HZ:g} Hz, not {freq:g}")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    sensor = simulated_sensor(args)
    gateway = Gateway(settings, sensor.info.name, [sensor], buffer_readings=args.buffer)
    with stop_on_signals() as stopping:
        return await gateway.run(stopping)
