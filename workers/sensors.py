"""`controlroom-worker sensors`: many simulated sensors in one process, one frame per tick.

`--preset plant` runs the reference plant's six sensors; `--count K --freq F` runs K synthetic
sensors (for scale); `--scenario NAME` a scenario's sensors with their faults (one process, so
one clock for the whole incident). The process is a gateway: one source, one queue, one message
per tick.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from controlroom.config import Settings
from controlroom.errors import ConfigError, InvalidMessage
from controlroom.plant.sensors import SensorInfo
from controlroom.simulation.faults import Fault
from controlroom.simulation.presets import PRESETS, preset_source
from controlroom.simulation.scenario import load
from controlroom.simulation.sensor import (
    SimulatedSensor,
    add_fault_flags,
    check_fault_epoch,
    check_walk,
    parse_faults,
)
from controlroom.wire.fields import check_sensor_name
from workers.gateway import Gateway
from workers.lifecycle import stop_on_signals
from workers.sensor import add_buffer_argument, check_buffer

HELP = (
    "many simulated sensors in one process (a gateway): a preset plant, K synthetic ones, or a "
    "scenario's"
)
MAX_COUNT = 100_000


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS), help="a named set of sensors")
    which.add_argument("--count", type=int, help="number of synthetic sensors")
    which.add_argument(
        "--scenario",
        metavar="FILE|NAME",
        help="a scenario's sensors and faults (`scenario run` plays one and stops it in time)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="with --scenario: its clock this many times faster (default 1)",
    )
    parser.add_argument("--freq", type=float, default=1.0, help="readings per second per sensor")
    parser.add_argument("--prefix", default="synthetic", help="synthetic sensor name prefix")
    parser.add_argument("--min", type=float, default=0.0, help="synthetic lowest value")
    parser.add_argument("--max", type=float, default=100.0, help="synthetic highest value")
    parser.add_argument("--step", type=float, default=1.0, help="synthetic step")
    parser.add_argument("--safe-min", type=float, default=5.0, help="synthetic lowest safe value")
    parser.add_argument("--safe-max", type=float, default=95.0, help="synthetic highest safe value")
    parser.add_argument("--source", help="source (gateway) name; default from preset or prefix")
    add_buffer_argument(parser)
    add_fault_flags(parser, gateway=True)


def sensors_from(args: argparse.Namespace) -> tuple[str, list[SimulatedSensor]]:
    source, sensors = _sensors_from(args)
    check_fault_epoch(args.fault_epoch)
    return source, with_faults(sensors, parse_faults(args.faults))


def with_faults(sensors: list[SimulatedSensor], faults: list[Fault]) -> list[SimulatedSensor]:
    """Each sensor with the faults that name it and those that name none."""
    names = {s.info.name for s in sensors}
    for fault in faults:
        if fault.sensor is not None and fault.sensor not in names:
            raise ConfigError(f"--fault {fault.text()!r}: no sensor {fault.sensor!r} here")
    return [
        replace(
            s,
            faults=s.faults
            + tuple(f.for_sensor(None) for f in faults if f.sensor in (None, s.info.name)),
        )
        for s in sensors
    ]


def _sensors_from(args: argparse.Namespace) -> tuple[str, list[SimulatedSensor]]:
    check_buffer(args)
    if args.preset:
        return args.source or preset_source(args.preset), list(PRESETS[args.preset])
    if args.scenario:
        scenario = load(args.scenario).scaled(args.speed)
        return args.source or scenario.source, list(scenario.sensors)
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
    gateway = Gateway(
        settings, source, sensors, buffer_readings=args.buffer, fault_epoch=args.fault_epoch
    )
    with stop_on_signals() as stopping:
        return await gateway.run(stopping)
