"""Faults on a timeline for simulated sensors: what `--fault` and a scenario's `faults` say.

One home for the fault syntax: the sensor and gateway command lines and the scenario files
parse with `parse_fault` and write with `Fault.text`, which reads back as the same fault.

    spike@T:+V          the first reading taken at or after T is offset by V (one reading)
    drift@T:+R/s[:D]    from T the walk has R per second since T added (a ramp), for D
    stuck@T[:D]         from T the value is frozen at the value of the first tick at or after
                        T, for D (readings still taken: only the value is wrong)
    dropout@T:D         from T no readings are taken for D: no seq is used up, so the audit
                        sees no gap, and the coordinator's staleness rule sees the silence
    noise@T:xF[:D]      from T the walk's step is multiplied by F (its bounds still hold), for D

T and D are a number and a unit (`ms`, `s`, `m`, `h`: `30s`, `1.5m`); T counts from the
sensor's first reading (or from `--fault-epoch`). Without D a fault lasts to the end; when D
is over, the fault is gone (a drift's offset with it). A gateway's fault may name its sensor,
`NAME=drift@60s:+0.2/s`; without a name it applies to each of the gateway's sensors. Faults
that overlap combine: drifts and spikes add, noise factors multiply, the earliest stuck wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from controlroom.errors import ConfigError


class FaultSyntaxError(ConfigError):
    """A fault spelled wrongly; the text says what is wrong (the caller names where)."""


class Kind(StrEnum):
    SPIKE = "spike"
    DRIFT = "drift"
    STUCK = "stuck"
    DROPOUT = "dropout"
    NOISE = "noise"


SYNTAX = {
    Kind.SPIKE: "spike@T:+V",
    Kind.DRIFT: "drift@T:+R/s[:D]",
    Kind.STUCK: "stuck@T[:D]",
    Kind.DROPOUT: "dropout@T:D",
    Kind.NOISE: "noise@T:xF[:D]",
}
UNITS_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_SECONDS = 366 * 86400.0  # a timeline longer than a year is a typo

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SPAN = re.compile(rf"({_NUMBER})(ms|s|m|h)")
_SIGNED = re.compile(rf"[+-]?{_NUMBER}")
_RATE = re.compile(rf"([+-]?{_NUMBER})/s")
_FACTOR = re.compile(rf"x({_NUMBER})")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: its kind, when it starts (seconds from the origin), its amount (a spike's
    offset, a drift's rate per second, a noise's factor; 0 for stuck and dropout), how long it
    lasts (None: to the end) and, on a gateway, the sensor it is for (None: every sensor)."""

    kind: Kind
    at_s: float
    amount: float = 0.0
    duration_s: float | None = None
    sensor: str | None = None

    @property
    def ends_s(self) -> float:
        return math.inf if self.duration_s is None else self.at_s + self.duration_s

    def active(self, elapsed_s: float) -> bool:
        return self.at_s <= elapsed_s < self.ends_s

    def text(self) -> str:
        """The fault as `parse_fault` reads it."""
        head = f"{self.sensor}=" if self.sensor is not None else ""
        words = [f"{head}{self.kind.value}@{_seconds(self.at_s)}"]
        if self.kind is Kind.SPIKE:
            words.append(_signed(self.amount))
        elif self.kind is Kind.DRIFT:
            words.append(f"{_signed(self.amount)}/s")
        elif self.kind is Kind.NOISE:
            words.append(f"x{_number(self.amount)}")
        if self.duration_s is not None:
            words.append(_seconds(self.duration_s))
        return ":".join(words)

    def scaled(self, speed: float) -> Fault:
        """The same fault on a clock `speed` times faster (a scenario played fast)."""
        rate = self.amount * speed if self.kind is Kind.DRIFT else self.amount
        duration = None if self.duration_s is None else self.duration_s / speed
        return replace(self, at_s=self.at_s / speed, amount=rate, duration_s=duration)

    def for_sensor(self, sensor: str | None) -> Fault:
        return replace(self, sensor=sensor)


def parse_fault(text: str) -> Fault:
    """The fault `text` spells, or FaultSyntaxError saying what is wrong, in one line."""
    # Spaces around the fault are forgiven, but a sensor's name is kept as written: a name
    # may begin with a space (any printable text is a name).
    sensor: str | None = None
    head, at_sign, rest = text.rstrip().partition("@")
    if not at_sign:
        raise FaultSyntaxError(f"no '@': a fault is KIND@TIME, e.g. spike@30s:+5 ({_kinds()})")
    name, equals, kind_text = head.rpartition("=")
    if equals:
        if not name.strip():
            raise FaultSyntaxError("an empty sensor name before '='")
        sensor = name
    kind_text = kind_text.strip()
    try:
        kind = Kind(kind_text)
    except ValueError:
        raise FaultSyntaxError(f"unknown fault {kind_text!r}: one of {_kinds()}") from None
    at_text, *args = rest.split(":")
    at_s = _span(at_text, "the start time", kind)
    usage = f"a {kind.value} is {SYNTAX[kind]}"
    amount = 0.0
    if kind in (Kind.SPIKE, Kind.DRIFT, Kind.NOISE):
        if not args:
            raise FaultSyntaxError(f"{usage}: its amount is missing")
        amount = _amount(kind, args.pop(0), usage)
    most = 0 if kind is Kind.SPIKE else 1
    if len(args) > most:
        raise FaultSyntaxError(f"{usage}: too many ':' parts")
    duration_s = _span(args[0], "the duration", kind) if args else None
    if kind is Kind.DROPOUT and duration_s is None:
        raise FaultSyntaxError(f"{usage}: a dropout needs its duration, e.g. dropout@150s:20s")
    if duration_s is not None and duration_s <= 0:
        raise FaultSyntaxError(f"{usage}: the duration must be above 0")
    return Fault(kind, at_s, amount, duration_s, sensor)


def _amount(kind: Kind, text: str, usage: str) -> float:
    if kind is Kind.SPIKE:
        if not _SIGNED.fullmatch(text):
            raise FaultSyntaxError(f"{usage}: {text!r} is not a number (e.g. +5 or -0.3)")
        value = float(text)
        if value == 0:
            raise FaultSyntaxError(f"{usage}: a spike of 0 changes nothing")
    elif kind is Kind.DRIFT:
        match = _RATE.fullmatch(text)
        if match is None:
            raise FaultSyntaxError(f"{usage}: {text!r} is not a rate per second (e.g. +0.2/s)")
        value = float(match[1])
    else:
        match = _FACTOR.fullmatch(text)
        if match is None:
            raise FaultSyntaxError(f"{usage}: {text!r} is not a factor (e.g. x3)")
        value = float(match[1])
        if value <= 0:
            raise FaultSyntaxError(f"{usage}: the factor must be above 0")
    if not math.isfinite(value):
        raise FaultSyntaxError(f"{usage}: {text!r} is not a finite number")
    return value


def _span(text: str, what: str, kind: Kind) -> float:
    match = _SPAN.fullmatch(text)
    if match is None:
        raise FaultSyntaxError(
            f"a {kind.value} is {SYNTAX[kind]}: {what} {text!r} is not a number with a unit "
            "(ms, s, m, h), e.g. 30s"
        )
    seconds = float(match[1]) * UNITS_S[match[2]]
    if not seconds <= MAX_SECONDS:  # also refuses inf
        raise FaultSyntaxError(f"a {kind.value} is {SYNTAX[kind]}: {what} is beyond a year")
    return seconds


def _kinds() -> str:
    return ", ".join(kind.value for kind in Kind)


def _number(value: float) -> str:
    """A float exactly, as short as it reads back (30 rather than 30.0)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _signed(value: float) -> str:
    text = _number(value)
    return text if text.startswith("-") else f"+{text}"


def _seconds(value: float) -> str:
    return f"{_number(value)}s"
