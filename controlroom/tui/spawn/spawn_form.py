"""The form behind `n`: start a simulated sensor from a reference preset or from scratch.

Every field is checked as it is typed, with the reason beside it; the sensor starts only when
all fields, and the relations between them (min below max, safe range in order), are right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from controlroom.messages import InvalidMessage, check_sensor_name
from controlroom.presets import REFERENCE_PLANT, SimulatedSensor

CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class SpawnRequest:
    """A sensor to start; `argv` is its `controlroom-worker` command line."""

    name: str
    minimum: float
    maximum: float
    step: float
    freq: float
    unit: str = ""
    serial: str = ""
    safe_min: float | None = None
    safe_max: float | None = None

    def argv(self) -> list[str]:
        args = [
            "sensor", "--name", self.name,
            "--min", repr(self.minimum), "--max", repr(self.maximum),
            "--step", repr(self.step), "--freq", repr(self.freq),
        ]  # fmt: skip
        if self.unit:
            args += ["--unit", self.unit]
        if self.serial:
            args += ["--serial", self.serial]
        if self.safe_min is not None:
            args += ["--safe-min", repr(self.safe_min)]
        if self.safe_max is not None:
            args += ["--safe-max", repr(self.safe_max)]
        return args


class Check(Validator):
    """A validator from a function that returns an error text, or None when the value is fine."""

    def __init__(self, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self._check = check

    def validate(self, value: str) -> ValidationResult:
        problem = self._check(value)
        return self.failure(problem) if problem else self.success()


def number(value: str, *, positive: bool = False, optional: bool = False) -> str | None:
    if not value.strip():
        return None if optional else "required"
    try:
        parsed = float(value)
    except ValueError:
        return "not a number"
    if not math.isfinite(parsed):
        return "must be finite"
    if positive and parsed <= 0:
        return "must be above 0"
    return None


def at_most(value: str, length: int) -> str | None:
    return f"at most {length} characters" if len(value) > length else None


def sensor_name(value: str, taken: Collection[str] = ()) -> str | None:
    try:
        check_sensor_name(value)
    except InvalidMessage as error:
        return str(error)
    if value in taken:
        return "a sensor of that name exists"
    return None


# (id, label, placeholder, check)
FIELDS: tuple[tuple[str, str, str, Callable[[str], str | None]], ...] = (
    ("serial", "Serial", "e.g. MPR-100", lambda v: at_most(v, 32)),
    ("unit", "Unit", "e.g. MPa", lambda v: at_most(v, 16)),
    ("min", "Min", "lowest simulated value", lambda v: number(v)),
    ("max", "Max", "highest simulated value", lambda v: number(v)),
    ("step", "Step", "largest change per tick", lambda v: number(v, positive=True)),
    ("freq", "Freq Hz", "readings per second", lambda v: number(v, positive=True)),
    ("safe_min", "Safe min", "optional", lambda v: number(v, optional=True)),
    ("safe_max", "Safe max", "optional", lambda v: number(v, optional=True)),
)


class SpawnForm(ModalScreen[SpawnRequest | None]):
    """Dismisses with the request, or None when cancelled."""

    DEFAULT_CSS = """
    SpawnForm { align: center middle; }
    SpawnForm > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SpawnForm .title { text-style: bold; }
    SpawnForm #preset-row { height: auto; align-horizontal: left; margin: 0; }
    SpawnForm #preset-row Label { width: 10; margin-top: 1; }
    SpawnForm #preset-row Select { width: 40; }
    SpawnForm Grid {
        grid-size: 3; grid-columns: 10 26 1fr; grid-rows: 1; height: auto; grid-gutter: 0 1;
    }
    SpawnForm Grid Label { height: 1; }
    SpawnForm Input { height: 1; }
    SpawnForm .error { color: $error; }
    SpawnForm #problem { color: $error; height: auto; margin-top: 1; }
    SpawnForm Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    SpawnForm Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Start"),
    ]

    def __init__(
        self, taken: Collection[str] = (), presets: tuple[SimulatedSensor, ...] = REFERENCE_PLANT
    ) -> None:
        super().__init__()
        self._taken = set(taken)
        self._presets = {p.info.name: p for p in presets}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Start a sensor", classes="title")
            with Horizontal(id="preset-row"):
                yield Label("Preset")
                options = [(name, name) for name in self._presets] + [("custom…", CUSTOM)]
                yield Select(options, value=CUSTOM, allow_blank=False, id="preset")
            with Grid():
                yield Label("Name")
                yield Input(
                    placeholder="unique sensor name",
                    id="name",
                    compact=True,
                    validators=[Check(lambda v: sensor_name(v, self._taken))],
                    validate_on=["changed", "blur", "submitted"],
                )
                yield Label("", id="name-error", classes="error")
                for field_id, label, placeholder, check in FIELDS:
                    yield Label(label)
                    yield Input(
                        placeholder=placeholder,
                        id=field_id,
                        compact=True,
                        validators=[Check(check)],
                        validate_on=["changed", "blur", "submitted"],
                        valid_empty=field_id in ("serial", "unit", "safe_min", "safe_max"),
                    )
                    yield Label("", id=f"{field_id}-error", classes="error")
            yield Static("", id="problem")
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Start (ctrl+s)", id="start", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        preset = self._presets.get(str(event.value))
        if preset is None:
            return
        info = preset.info
        values = {
            "name": self._free_name(info.name),
            "serial": info.serial_no,
            "unit": info.unit,
            "min": _text(preset.minimum),
            "max": _text(preset.maximum),
            "step": _text(preset.step),
            "freq": _text(preset.freq_hz),
            "safe_min": _text(info.safe_min),
            "safe_max": _text(info.safe_max),
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value

    def _free_name(self, base: str) -> str:
        if base not in self._taken:
            return base
        n = 2
        while f"{base}_{n}" in self._taken:
            n += 1
        return f"{base}_{n}"

    @on(Input.Changed)
    @on(Input.Blurred)
    def _show_field_error(self, event: Input.Changed | Input.Blurred) -> None:
        field = event.input
        result = event.validation_result
        if field.id is None or result is None:
            return
        error = self.query_one(f"#{field.id}-error", Label)
        error.update("" if result.is_valid else "; ".join(result.failure_descriptions))
        self.query_one("#problem", Static).update("")

    @on(Input.Submitted)
    def _next_or_submit(self, event: Input.Submitted) -> None:
        self.action_submit()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        request, problem = self.read()
        if request is None:
            self.query_one("#problem", Static).update(problem)
            return
        self.dismiss(request)

    def read(self) -> tuple[SpawnRequest | None, str]:
        """The request the fields describe, or None and the first problem in words."""
        values: dict[str, str] = {}
        for field in self.query(Input):
            assert field.id is not None
            values[field.id] = field.value.strip()
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                label = "Name" if field.id == "name" else _label(field.id)
                field.focus()
                return None, f"{label}: {'; '.join(result.failure_descriptions)}"
        return _request(values)


def _request(values: dict[str, str]) -> tuple[SpawnRequest | None, str]:
    def optional(key: str) -> float | None:
        return float(values[key]) if values[key] else None

    minimum, maximum = float(values["min"]), float(values["max"])
    safe_min, safe_max = optional("safe_min"), optional("safe_max")
    if minimum >= maximum:
        return None, "Min must be below Max"
    if safe_min is not None and safe_max is not None and safe_min > safe_max:
        return None, "Safe min must not be above Safe max"
    return SpawnRequest(
        name=values["name"],
        minimum=minimum,
        maximum=maximum,
        step=float(values["step"]),
        freq=float(values["freq"]),
        unit=values["unit"],
        serial=values["serial"],
        safe_min=safe_min,
        safe_max=safe_max,
    ), ""


def _label(field_id: str) -> str:
    return next(label for fid, label, _, _ in FIELDS if fid == field_id)


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
