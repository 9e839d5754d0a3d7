"""`controlroom-worker sensors`: many simulated sensors in one process, one frame per tick.

`--preset plant` runs the reference plant's six sensors; `--count K --freq F` runs K synthetic
sensors (for scale). The process is a gateway: one source, one queue, one message per tick.
"""

from __future__ import annotations

import argparse

from controlroom.config import Settings
from controlroom.errors import ConfigError, InvalidMessage
from controlroom.plant.sensors import SensorInfo
from controlroom.simulation.presets import PRESETS, preset_source
from controlroom.simulation.sensor import SimulatedSensor, check_walk
from controlroom.wire.fields import check_sensor_name
from workers.gateway import Gateway
from workers.lifecycle import stop_on_signals
from workers.sensor import add_buffer_argument, check_buffer

HELP = "many simulated sensors in one process (a gateway): a preset plant or K synthetic ones"
MAX_COUNT = 100_000


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS), help="a named set of sensors")
    which.add_argument("--count", type=int, help="number of synthetic sensors")
    parser.add_argument("--freq", type=float, default=1.0, help="readings per second per sensor")
    parser.add_argument("--prefix", default="synthetic", help="synthetic sensor name prefix")
    parser.add_argument("--min", type=float, default=0.0, help="synthetic lowest value")
    parser.add_argument("--max", type=float, default=100.0, help="synthetic highest value")
    parser.add_argument("--step", type=float, default=1.0, help="synthetic step")
    parser.add_argument("--safe-min", type=float, default=5.0, help="synthetic lowest safe value")
    parser.add_argument("--safe-max", type=float, default=95.0, help="synthetic highest safe value")
    parser.add_argument("--source", help="source (gateway) name; default from preset or prefix")
    add_buffer_argument(parser)


def sensors_from(args: argparse.Namespace) -> tuple[str, list[SimulatedSensor]]:
    check_buffer(args)
    if args.preset:
        return args.source or preset_source(args.preset), list(PRESETS[args.preset])
    if not 1 <= args.count <= MAX_COUNT:
        raise ConfigError(f"--count must be between 1 and {MAX_COUNT:,}, not {args.count}")
    check_walk(args.min, args.max, args.step, args.freq)
    width = len(str(args.count))
    sensors = []
    for index in range(1, args.count + 1):
        try:
            name = check_sensor_name(f"{args.prefix}-{index:0{width}d}")
        except InvalidMessage as error:
            raise ConfigError(f"--prefix: {error}") from None
        info = SensorInfo(name, f"SYN-{index}", "", args.safe_min, args.safe_max, 1.0 / args.freq)
        sensors.append(SimulatedSensor(info, args.min, args.max, args.step, args.freq))
    source = args.source or f"{args.prefix}-gateway"
    try:
        check_sensor_name(source)
    except InvalidMessage as error:
        raise ConfigError(f"--source: {error}") from None
    return source, sensors


async def run(args: argparse.Namespace, settings: Settings) -> int:
    source, sensors = sensors_from(args)
    gateway = Gateway(settings, source, sensors, buffer_readings=args.buffer)
    with stop_on_signals() as stopping:
        return await gateway.run(stopping)
