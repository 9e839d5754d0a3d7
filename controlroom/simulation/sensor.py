"""A simulated sensor: what it is, the bounds of its settings, and its command line.

One home for the sensor's contract: `controlroom-worker sensor` takes its flags from
`add_flags` and checks them with `from_args`; the control room's spawn form checks each field
as it is typed with `check_field` and starts the sensor with `SimulatedSensor.argv`. The two can
no longer drift: a frequency the sensor refuses, the form refuses too.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from controlroom.errors import ConfigError, InvalidMessage
from controlroom.plant.sensors import SensorInfo
from controlroom.simulation.faults import Fault, FaultSyntaxError, parse_fault
from controlroom.wire.fields import MAX_TEXT_LENGTH, check_sensor_name

MAX_FREQ_HZ = 1000.0
MAX_SERIAL_LENGTH = 32
MAX_UNIT_LENGTH = 16


@dataclass(frozen=True, slots=True)
class SimulatedSensor:
    """A sensor's identity plus the settings of its random walk."""

    info: SensorInfo
    minimum: float
    maximum: float
    step: float
    freq_hz: float
    faults: tuple[Fault, ...] = ()  # its own: none names a sensor

    def argv(self) -> list[str]:
        """Its `controlroom-worker` command line."""
        info = self.info
        args = [
            "sensor", "--name", info.name,
            "--min", repr(self.minimum), "--max", repr(self.maximum),
            "--step", repr(self.step), "--freq", repr(self.freq_hz),
        ]  # fmt: skip
        if info.unit:
            args += ["--unit", info.unit]
        if info.serial_no:
            args += ["--serial", info.serial_no]
        if info.safe_min is not None:
            args += ["--safe-min", repr(info.safe_min)]
        if info.safe_max is not None:
            args += ["--safe-max", repr(info.safe_max)]
        for fault in self.faults:
            args += ["--fault", fault.text()]
        return args


@dataclass(frozen=True, slots=True)
class Field:
    """One setting: its flag, its label in a form, and the check of one value."""

    key: str
    flag: str
    label: str
    help: str
    number: bool = True
    required: bool = True
    check: Callable[[float], str | None] = lambda value: None


def _finite(value: float) -> str | None:
    return None if math.isfinite(value) else "must be a finite number"


def _positive(value: float) -> str | None:
    return _finite(value) or (None if value > 0 else "must be above 0")


def _frequency(value: float) -> str | None:
    if not math.isfinite(value) or not 0 < value <= MAX_FREQ_HZ:
        return f"must be above 0 and at most {MAX_FREQ_HZ:g} Hz"
    return None


FIELDS: tuple[Field, ...] = (
    Field("serial", "--serial", "Serial", "serial number", number=False, required=False),
    Field("unit", "--unit", "Unit", "unit of measure, e.g. MPa", number=False, required=False),
    Field("min", "--min", "Min", "lowest simulated value", check=_finite),
    Field("max", "--max", "Max", "highest simulated value", check=_finite),
    Field("step", "--step", "Step", "largest change per tick", check=_positive),
    Field("freq", "--freq", "Freq Hz", "readings per second", check=_frequency),
    Field("safe_min", "--safe-min", "Safe min", "lowest safe value (alarm limit)",
          required=False, check=_finite),
    Field("safe_max", "--safe-max", "Safe max", "highest safe value (alarm limit)",
          required=False, check=_finite),
)  # fmt: skip
FIELDS_BY_KEY = {field.key: field for field in FIELDS}
TEXT_LIMITS = {"serial": MAX_SERIAL_LENGTH, "unit": MAX_UNIT_LENGTH}


def check_name(text: str, taken: frozenset[str] | set[str] = frozenset()) -> str | None:
    """What is wrong with a sensor name, or None."""
    try:
        check_sensor_name(text)
    except InvalidMessage as error:
        return str(error)
    if text in taken:
        return "a sensor of that name is running"
    return None


def check_field(key: str, text: str) -> str | None:
    """What is wrong with one field's text, or None: the form's check as a value is typed."""
    field = FIELDS_BY_KEY[key]
    text = text.strip()
    if not text:
        return "required" if field.required else None
    if not field.number:
        limit = TEXT_LIMITS.get(key, MAX_TEXT_LENGTH)
        return f"at most {limit} characters" if len(text) > limit else None
    try:
        value = float(text)
    except ValueError:
        return "not a number"
    return field.check(value)


def check_walk(minimum: float, maximum: float, step: float, freq: float) -> None:
    """The walk's settings, together; ConfigError naming the first bad flag."""
    for key, value in (("min", minimum), ("max", maximum), ("step", step), ("freq", freq)):
        problem = FIELDS_BY_KEY[key].check(value)
        if problem:
            raise ConfigError(f"{FIELDS_BY_KEY[key].flag} {problem}, not {value:g}")
    if minimum >= maximum:
        raise ConfigError(f"--min ({minimum:g}) must be below --max ({maximum:g})")


def simulated_sensor(
    name: str,
    minimum: float,
    maximum: float,
    step: float,
    freq: float,
    *,
    unit: str = "",
    serial: str = "",
    safe_min: float | None = None,
    safe_max: float | None = None,
) -> SimulatedSensor:
    """The sensor these settings describe, or ConfigError naming the first bad flag."""
    problem = check_name(name)
    if problem:
        raise ConfigError(f"--name: {problem}")
    check_walk(minimum, maximum, step, freq)
    for key, value in (("safe_min", safe_min), ("safe_max", safe_max)):
        if value is not None and FIELDS_BY_KEY[key].check(value):
            raise ConfigError(f"{FIELDS_BY_KEY[key].flag} must be a finite number")
    if safe_min is not None and safe_max is not None and safe_min > safe_max:
        raise ConfigError("--safe-min must not be above --safe-max")
    for key, text in (("unit", unit), ("serial", serial)):
        problem = check_field(key, text)
        if problem:
            raise ConfigError(f"{FIELDS_BY_KEY[key].flag} {problem}")
    return SimulatedSensor(
        info=SensorInfo(name, serial, unit, safe_min, safe_max, period_s=1.0 / freq),
        minimum=minimum,
        maximum=maximum,
        step=step,
        freq_hz=freq,
    )


def from_fields(values: Mapping[str, str]) -> SimulatedSensor:
    """The sensor a form's fields describe (each already passed `check_field`)."""

    def optional(key: str) -> float | None:
        text = values.get(key, "").strip()
        return float(text) if text else None

    return simulated_sensor(
        values["name"].strip(),
        float(values["min"]),
        float(values["max"]),
        float(values["step"]),
        float(values["freq"]),
        unit=values.get("unit", "").strip(),
        serial=values.get("serial", "").strip(),
        safe_min=optional("safe_min"),
        safe_max=optional("safe_max"),
    )


# Defaults of the command line (the form has none: every walk setting is asked for).
DEFAULTS = {"min": 1.0, "max": 5.0, "step": 0.1, "freq": 5.0}


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The sensor's flags; the original system's single-dash forms (-name, -min, -max, -step,
    -freq) work too, so old command lines keep working."""
    parser.add_argument("--name", "-name", required=True, help="sensor name (1-64 characters)")
    for field in FIELDS:
        if field.number:
            default = DEFAULTS.get(field.key)
            legacy = [f"-{field.key}"] if field.key in DEFAULTS else []
            suffix = f" (default {default:g})" if default is not None else ""
            parser.add_argument(
                field.flag,
                *legacy,
                dest=field.key,
                type=float,
                default=default,
                help=field.help + suffix,
            )
        else:
            parser.add_argument(field.flag, dest=field.key, default="", help=field.help)
    add_fault_flags(parser, gateway=False)


def add_fault_flags(parser: argparse.ArgumentParser, *, gateway: bool) -> None:
    """--fault (repeatable) and --fault-epoch, as a sensor and a gateway take them."""
    which = (
        "[NAME=]KIND@TIME[:ARGS] (without NAME, for every sensor of the gateway)"
        if gateway
        else "KIND@TIME[:ARGS]"
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        default=[],
        metavar="FAULT",
        help=f"a fault on the timeline, repeatable: {which}; spike@30s:+5, drift@60s:+0.2/s, "
        "stuck@120s[:30s], dropout@150s:20s, noise@200s:x3 (README: 'Faults')",
    )
    parser.add_argument(
        "--fault-epoch",
        type=float,
        metavar="UNIX_SECONDS",
        help="the moment fault times count from (default: the first reading); a scenario "
        "gives all its sensors one",
    )


def parse_faults(texts: list[str]) -> list[Fault]:
    """The faults of `--fault` flags, or ConfigError naming the first bad one."""
    faults = []
    for text in texts:
        try:
            faults.append(parse_fault(text))
        except FaultSyntaxError as error:
            raise ConfigError(f"--fault {text!r}: {error}") from None
    return faults


def check_fault_epoch(epoch: float | None) -> None:
    if epoch is not None and not (math.isfinite(epoch) and epoch > 0):
        raise ConfigError(f"--fault-epoch must be a Unix time in seconds, not {epoch:g}")


def from_args(args: argparse.Namespace) -> SimulatedSensor:
    """The sensor `add_flags`' flags describe, or ConfigError naming the first bad flag."""
    simulated = _from_args(args)
    check_fault_epoch(args.fault_epoch)
    faults = []
    for fault in parse_faults(args.faults):
        if fault.sensor not in (None, simulated.info.name):
            raise ConfigError(f"--fault {fault.text()!r}: this sensor is {simulated.info.name!r}")
        faults.append(fault.for_sensor(None))
    return replace(simulated, faults=tuple(faults))


def _from_args(args: argparse.Namespace) -> SimulatedSensor:
    return simulated_sensor(
        args.name,
        args.min,
        args.max,
        args.step,
        args.freq,
        unit=args.unit,
        serial=args.serial,
        safe_min=args.safe_min,
        safe_max=args.safe_max,
    )
