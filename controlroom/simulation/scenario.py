"""Scenario files: a whole plant scripted through an incident (which sensors, which faults,
when, how long), in TOML.

    description = "one line for `scenario list`"
    duration = "4m"                         # a span as faults write it, or seconds

    [[sensor]]
    preset = "boiler_pressure_out"          # a reference plant sensor (its safe range) ...
    min = 15.2                              # ... any of its settings overridden
    max = 15.3
    faults = ["drift@20s:+0.004/s:100s"]

    [[sensor]]
    name = "boiler_relief_valve"            # or a new one, with its settings
    min = 0
    max = 1
    step = 0.01
    freq = 1
    safe_min = 0
    safe_max = 5
    faults = ["drift@115s:+4/s:20s"]

    [expect]                                # what it should make happen (the tests check it)
    alarms = [{ sensor = "boiler_pressure_out", kind = "HIGH", level = "H", priority = "high" }]
    alarms_at_least = 13
    chattering = ["condensor_temp_out"]
    stale = ["condensor_temp_out"]
    no_alarms = true

The shipped ones are package data (`controlroom/simulation/scenarios/*.toml`); `load` takes
one of their names or a file. A mistake in a file is one line naming the file, the line (when
tomllib gives it, or the field's line) and the field.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from controlroom.errors import ConfigError
from controlroom.plant.sensors import Condition
from controlroom.simulation.faults import UNITS_S, FaultSyntaxError, parse_fault
from controlroom.simulation.presets import REFERENCE_PLANT
from controlroom.simulation.sensor import MAX_FREQ_HZ, SimulatedSensor, simulated_sensor

PACKAGE = "controlroom.simulation.scenarios"
MAX_SPEED = 1000.0
MAX_SENSORS = 100  # a scenario is a plant an operator can follow, claimed name by name

_SENSOR_KEYS = (
    "preset",
    "name",
    "serial",
    "unit",
    "min",
    "max",
    "step",
    "freq",
    "safe_min",
    "safe_max",
    "faults",
)
_TOP_KEYS = ("name", "description", "duration", "sensor", "expect")
_EXPECT_KEYS = ("alarms", "alarms_at_least", "chattering", "stale", "no_alarms")
_PRESETS = {preset.info.name: preset for preset in REFERENCE_PLANT}


class ScenarioError(ConfigError):
    """A scenario file that cannot be played; one line naming the file, line and field."""


@dataclass(frozen=True, slots=True)
class ExpectedAlarm:
    sensor: str
    kind: Condition
    priority: str | None = None
    level: str | None = None  # LL, L, H, HH (alarm definitions, controlroom.plant.alarm_limits)


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the scenario should make happen: the tests hold it to this."""

    alarms: tuple[ExpectedAlarm, ...] = ()  # raised in this order
    alarms_at_least: int = 0
    chattering: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    no_alarms: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    duration_s: float
    sensors: tuple[SimulatedSensor, ...]
    expect: Expectations = field(default_factory=Expectations)
    speed: float = 1.0
    origin: str = ""  # what `load` takes back: the shipped name, or the file's absolute path

    @property
    def source(self) -> str:
        """The gateway its sensors run in."""
        return f"scenario-{self.name}"

    def scaled(self, speed: float) -> Scenario:
        """The same incident `speed` times faster: every time shorter, every sensor reading
        that much more often, so the readings per scripted second stay the same."""
        if not (math.isfinite(speed) and 0 < speed <= MAX_SPEED):
            raise ConfigError(f"--speed must be above 0 and at most {MAX_SPEED:g}, not {speed:g}")
        sensors = []
        for sensor in self.sensors:
            freq = sensor.freq_hz * speed
            if freq > MAX_FREQ_HZ:
                raise ConfigError(
                    f"--speed {speed:g} would read {sensor.info.name} at {freq:g} Hz "
                    f"(at most {MAX_FREQ_HZ:g} Hz)"
                )
            info = msgspec.structs.replace(sensor.info, period_s=1.0 / freq)
            faults = tuple(fault.scaled(speed) for fault in sensor.faults)
            sensors.append(replace(sensor, info=info, freq_hz=freq, faults=faults))
        return replace(
            self, duration_s=self.duration_s / speed, sensors=tuple(sensors), speed=speed
        )

    def run_argv(self, speed: float, log_dir: Path) -> list[str]:
        """Its `controlroom-worker scenario run` command line (the control room starts it)."""
        return ["scenario", "run", self.origin, "--speed", repr(speed), "--log-dir", str(log_dir)]

    def taken(self, running: Collection[str]) -> list[str]:
        """Its sensors' names among `running`: a scenario cannot run beside them."""
        return [s.info.name for s in self.sensors if s.info.name in running]

    def timeline(self) -> list[tuple[float, str, str]]:
        """(seconds, sensor, fault) for every fault, in time order: what the progress shows."""
        moments = [(f.at_s, s.info.name, f.text()) for s in self.sensors for f in s.faults]
        return sorted(moments)


def shipped() -> list[Scenario]:
    """The scenarios that come with controlroom, by name."""
    folder = resources.files(PACKAGE)
    found = sorted(item.name for item in folder.iterdir() if item.name.endswith(".toml"))
    return [
        _parse((folder / name).read_text(), name.removesuffix(".toml"), name, origin=name[:-5])
        for name in found
    ]


def load(which: str) -> Scenario:
    """A shipped scenario by name, or a scenario file by path."""
    folder = resources.files(PACKAGE)
    packaged = folder / f"{which}.toml"
    if "/" not in which and not which.endswith(".toml") and packaged.is_file():
        return _parse(packaged.read_text(), which, f"{which}.toml", origin=which)
    path = Path(which)
    try:
        text = path.read_text()
    except FileNotFoundError:
        names = ", ".join(s.name for s in shipped())
        raise ScenarioError(f"{which}: no such file, nor a shipped scenario ({names})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{which}: cannot read it ({error})") from None
    return _parse(text, path.stem, str(path), origin=str(path.resolve()))


def _parse(text: str, default_name: str, where: str, *, origin: str) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{where}: {_toml_problem(str(error))}") from None
    reader = _Reader(text, where)
    reader.known(data, _TOP_KEYS, "")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name):
        raise reader.error("name", "name", "must be 1-40 letters, digits, '_', '.' or '-'")
    description = data.get("description", "")
    if not isinstance(description, str) or "\n" in description:
        raise reader.error("description", "description", "must be one line of text")
    if "duration" not in data:
        raise reader.error("", "duration", 'is missing (e.g. duration = "5m")')
    duration = reader.span(data["duration"], "duration", "duration")
    tables = data.get("sensor")
    if not isinstance(tables, list) or not tables:
        raise reader.error("", "sensor", "no [[sensor]] tables: a scenario needs sensors")
    if len(tables) > MAX_SENSORS:
        raise reader.error("", "sensor", f"at most {MAX_SENSORS} sensors")
    sensors = [reader.sensor(table, index) for index, table in enumerate(tables)]
    names = [s.info.name for s in sensors]
    for index, sensor_name in enumerate(names):
        if sensor_name in names[:index]:
            raise reader.error(
                f"sensor.{index}", f"sensor[{index}].name", f"{sensor_name!r} comes twice"
            )
    for sensor in sensors:
        for fault in sensor.faults:
            if fault.at_s >= duration:
                raise reader.error(
                    f"sensor.{names.index(sensor.info.name)}.faults",
                    f"sensor[{names.index(sensor.info.name)}].faults",
                    f"{fault.text()!r} starts after the scenario's duration",
                )
    expect = reader.expectations(data.get("expect", {}), set(names))
    return Scenario(name, description, duration, tuple(sensors), expect, origin=origin)


class _Reader:
    """Reads the tables of one file, naming the file, the line and the field of a mistake."""

    def __init__(self, text: str, where: str) -> None:
        self._lines = text.splitlines()
        self._where = where

    def error(self, path: str, shown: str, problem: str) -> ScenarioError:
        line = self._line_of(path)
        at = f"line {line}: " if line else ""
        return ScenarioError(f"{self._where}: {at}{shown}: {problem}")

    def _line_of(self, path: str) -> int | None:
        """The line of a field (`sensor.2.faults`, `expect.stale`, `duration`): the first line
        of that key within its table (the nth [[sensor]], [expect], or the top)."""
        lines = self._lines
        parts = path.split(".") if path else []
        if not parts:
            return None
        start = 0
        if parts[0] == "sensor" and len(parts) >= 2:
            headers = [i for i, line in enumerate(lines) if line.strip() == "[[sensor]]"]
            if int(parts[1]) >= len(headers):
                return None
            start, parts = headers[int(parts[1])], parts[2:]
        elif parts[0] == "expect":
            header = next((i for i, line in enumerate(lines) if line.strip() == "[expect]"), None)
            if header is None:
                return None
            start, parts = header, parts[1:]
        else:
            start = -1  # the top, before the first table
        if not parts:
            return start + 1 if start >= 0 else None
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
            len(lines),
        )
        key = re.compile(rf"\s*{re.escape(parts[0])}\s*=")
        return next((n + 1 for n in range(start + 1, end) if key.match(lines[n])), None)

    def known(self, table: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
        for key in table:
            if key not in keys:
                shown = f"{path}.{key}" if path else key
                raise self.error(
                    f"{path}.{key}" if path else key,
                    _shown(shown),
                    f"unknown field (one of {', '.join(keys)})",
                )

    def span(self, value: object, path: str, shown: str) -> float:
        if isinstance(value, bool):
            raise self.error(path, shown, 'must be a span such as "5m" or a number of seconds')
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := re.fullmatch(r"(\d+\.?\d*)(ms|s|m|h)", value)):
            seconds = float(match[1]) * UNITS_S[match[2]]
        else:
            raise self.error(path, shown, 'must be a span such as "5m" or a number of seconds')
        if not (math.isfinite(seconds) and 0 < seconds <= 86400):
            raise self.error(path, shown, "must be above 0 and at most a day")
        return seconds

    def sensor(self, table: object, index: int) -> SimulatedSensor:
        path, shown = f"sensor.{index}", f"sensor[{index}]"
        if not isinstance(table, dict):
            raise self.error(path, shown, "must be a table")
        self.known(table, _SENSOR_KEYS, path)
        preset_name = table.get("preset")
        base: SimulatedSensor | None = None
        if preset_name is not None:
            base = _PRESETS.get(preset_name) if isinstance(preset_name, str) else None
            if base is None:
                raise self.error(
                    f"{path}.preset",
                    f"{shown}.preset",
                    f"not a reference plant sensor ({', '.join(_PRESETS)})",
                )
        elif "name" not in table:
            raise self.error(path, shown, "needs a preset (a reference sensor) or a name")
        settings: dict[str, Any] = {}
        if base is not None:
            info = base.info
            settings = {
                "name": info.name,
                "serial": info.serial_no,
                "unit": info.unit,
                "min": base.minimum,
                "max": base.maximum,
                "step": base.step,
                "freq": base.freq_hz,
                "safe_min": info.safe_min,
                "safe_max": info.safe_max,
            }
        settings |= {key: value for key, value in table.items() if key not in ("preset", "faults")}
        for key in ("min", "max", "step", "freq"):
            if key not in settings:
                raise self.error(path, f"{shown}.{key}", "is missing")
        for key, value in settings.items():
            text = key in ("name", "serial", "unit")
            if text and not isinstance(value, str):
                raise self.error(f"{path}.{key}", f"{shown}.{key}", "must be text")
            if (
                not text
                and value is not None
                and (isinstance(value, bool) or not isinstance(value, int | float))
            ):
                raise self.error(f"{path}.{key}", f"{shown}.{key}", "must be a number")
        try:
            sensor = simulated_sensor(
                settings["name"],
                float(settings["min"]),
                float(settings["max"]),
                float(settings["step"]),
                float(settings["freq"]),
                unit=settings.get("unit", ""),
                serial=settings.get("serial", ""),
                safe_min=_optional(settings.get("safe_min")),
                safe_max=_optional(settings.get("safe_max")),
            )
        except ConfigError as error:  # worded with the sensor's flags: in the file's words
            problem = re.sub(r"--([a-z-]+)", lambda m: m[1].replace("-", "_"), str(error))
            key = re.split(r"[ :]", problem, maxsplit=1)[0]
            raise self.error(
                f"{path}.{key}" if key in _SENSOR_KEYS else path, shown, problem
            ) from None
        faults_list = table.get("faults", [])
        if not isinstance(faults_list, list):
            raise self.error(f"{path}.faults", f"{shown}.faults", "must be a list of faults")
        faults = []
        for number, text_value in enumerate(faults_list):
            where = f"{shown}.faults[{number}]"
            if not isinstance(text_value, str):
                raise self.error(f"{path}.faults", where, "must be a fault as text")
            try:
                fault = parse_fault(text_value)
            except FaultSyntaxError as error:
                raise self.error(f"{path}.faults", f"{where} {text_value!r}", str(error)) from None
            if fault.sensor not in (None, sensor.info.name):
                raise self.error(f"{path}.faults", where, "names another sensor")
            faults.append(fault.for_sensor(None))
        return replace(sensor, faults=tuple(faults))

    def expectations(self, table: object, names: set[str]) -> Expectations:
        if not isinstance(table, dict):
            raise self.error("expect", "expect", "must be a table")
        self.known(table, _EXPECT_KEYS, "expect")

        def sensors(key: str) -> tuple[str, ...]:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(v in names for v in value):
                raise self.error(
                    f"expect.{key}", f"expect.{key}", "must list sensors of this scenario"
                )
            return tuple(value)

        alarms = []
        for number, entry in enumerate(table.get("alarms", [])):
            shown = f"expect.alarms[{number}]"
            if not isinstance(entry, dict) or entry.get("sensor") not in names:
                raise self.error("expect.alarms", shown, "must name a sensor of this scenario")
            if set(entry) - {"sensor", "kind", "priority", "level"}:
                raise self.error("expect.alarms", shown, "takes sensor, kind, level, priority")
            try:
                kind = Condition(str(entry.get("kind")))
            except ValueError:
                raise self.error("expect.alarms", shown, "kind must be HIGH or LOW") from None
            if kind is Condition.NORMAL:
                raise self.error("expect.alarms", shown, "kind must be HIGH or LOW")
            priority = entry.get("priority")
            if priority not in (None, "critical", "high", "medium", "low"):
                raise self.error(
                    "expect.alarms", shown, "priority must be critical, high, medium or low"
                )
            level = entry.get("level")
            if level not in (None, "LL", "L", "H", "HH"):
                raise self.error("expect.alarms", shown, "level must be LL, L, H or HH")
            alarms.append(ExpectedAlarm(entry["sensor"], kind, priority, level))
        at_least = table.get("alarms_at_least", 0)
        if isinstance(at_least, bool) or not isinstance(at_least, int) or at_least < 0:
            raise self.error(
                "expect.alarms_at_least", "expect.alarms_at_least", "must be a whole number"
            )
        no_alarms = table.get("no_alarms", False)
        if not isinstance(no_alarms, bool):
            raise self.error("expect.no_alarms", "expect.no_alarms", "must be true or false")
        return Expectations(
            tuple(alarms), at_least, sensors("chattering"), sensors("stale"), no_alarms
        )


def _optional(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _shown(path: str) -> str:
    """`sensor.2.faults` as a reader writes it: `sensor[2].faults`."""
    return re.sub(r"\.(\d+)", r"[\1]", path)


def _toml_problem(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 9)" as "line 3: invalid value (column 9)"."""
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if match is None:
        return f"not TOML: {message}"
    problem = message[: match.start()].strip()
    return f"line {match[1]}: not TOML: {problem[:1].lower()}{problem[1:]} (column {match[2]})"
