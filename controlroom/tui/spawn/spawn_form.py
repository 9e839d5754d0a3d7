"""The form behind `n`: start a simulated sensor from a reference preset or from scratch.

Every field is checked as it is typed, with the reason beside it; the sensor starts only when
all fields, and the relations between them (min below max, safe range in order), are right.
The fields, their checks and the sensor's command line are the sensor's own
(`controlroom.simulation.sensor`), so the form accepts exactly what the sensor does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from controlroom.errors import ConfigError
from controlroom.simulation import sensor
from controlroom.simulation.presets import REFERENCE_PLANT
from controlroom.simulation.sensor import SimulatedSensor

CUSTOM = "custom"


class Check(Validator):
    """A validator from a function that returns an error text, or None when the value is fine."""

    def __init__(self, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self._check = check

    def validate(self, value: str) -> ValidationResult:
        problem = self._check(value)
        return self.failure(problem) if problem else self.success()


class SpawnForm(ModalScreen[SimulatedSensor | None]):
    """Dismisses with the sensor to start, or None when cancelled."""

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
                    validators=[Check(lambda v: sensor.check_name(v, self._taken))],
                    validate_on=["changed", "blur", "submitted"],
                )
                yield Label("", id="name-error", classes="error")
                for field in sensor.FIELDS:
                    yield Label(field.label)
                    yield Input(
                        placeholder=field.help if field.required else "optional",
                        id=field.key,
                        compact=True,
                        validators=[Check(partial(sensor.check_field, field.key))],
                        validate_on=["changed", "blur", "submitted"],
                        valid_empty=not field.required,
                    )
                    yield Label("", id=f"{field.key}-error", classes="error")
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
        if isinstance(event, Input.Changed):  # an edit answers the problem; a blur does not
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
        chosen, problem = self.read()
        if chosen is None:
            self.query_one("#problem", Static).update(problem)
            return
        self.dismiss(chosen)

    def read(self) -> tuple[SimulatedSensor | None, str]:
        """The sensor the fields describe, or None and the first problem in words."""
        values: dict[str, str] = {}
        for field in self.query(Input):
            assert field.id is not None
            values[field.id] = field.value.strip()
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                label = "Name" if field.id == "name" else sensor.FIELDS_BY_KEY[field.id].label
                field.focus()
                return None, f"{label}: {'; '.join(result.failure_descriptions)}"
        try:
            return sensor.from_fields(values), ""
        except ConfigError as error:  # a relation between fields: min below max, safe range
            return None, _in_words(str(error))


def _in_words(problem: str) -> str:
    """A sensor's flag-worded complaint in the form's words (`--min` -> `Min`)."""
    for field in sensor.FIELDS:
        problem = problem.replace(field.flag, field.label)
    return problem[0].upper() + problem[1:]


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
