"""The form behind `n`: start a simulated sensor from a reference preset or from scratch, or
play a scenario (a shipped one, or a file) at a speed.

Every field is checked as it is typed, with the reason beside it; the sensor starts only when
all fields, and the relations between them (min below max, safe range in order), are right.
The fields, their checks and the sensor's command line are the sensor's own
(`controlroom.simulation.sensor`), so the form accepts exactly what the sensor does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
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
from controlroom.simulation.scenario import Scenario, load, shipped
from controlroom.simulation.sensor import SimulatedSensor

CUSTOM = "custom"
A_SENSOR = "sensor"
A_FILE = "file"
MAX_SPEED = 1000.0


@dataclass(frozen=True, slots=True)
class ScenarioChoice:
    """A scenario to play, and how fast."""

    scenario: Scenario
    speed: float = 1.0


class Check(Validator):
    """A validator from a function that returns an error text, or None when the value is fine."""

    def __init__(self, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self._check = check

    def validate(self, value: str) -> ValidationResult:
        problem = self._check(value)
        return self.failure(problem) if problem else self.success()


class SpawnForm(ModalScreen[SimulatedSensor | ScenarioChoice | None]):
    """Dismisses with the sensor to start, the scenario to play, or None when cancelled."""

    DEFAULT_CSS = """
    SpawnForm { align: center middle; }
    SpawnForm > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SpawnForm .title { text-style: bold; }
    SpawnForm .choice-row { height: auto; align-horizontal: left; margin: 0; }
    SpawnForm .choice-row Label { width: 10; margin-top: 1; }
    SpawnForm .choice-row Select { width: 40; }
    SpawnForm #scenario-fields { height: auto; }
    SpawnForm #scenario-fields Grid { grid-columns: 10 1fr; grid-size: 2; }
    SpawnForm #scenario-about { color: $text-muted; height: auto; margin-top: 1; }
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
        self,
        taken: Collection[str] = (),
        presets: tuple[SimulatedSensor, ...] = REFERENCE_PLANT,
        reading: Collection[str] | None = None,
    ) -> None:
        """`taken`: names a new sensor may not have; `reading`: sensors reading now, beside
        which a scenario of the same names cannot run (default: the taken ones)."""
        super().__init__()
        self._taken = set(taken)
        self._reading = self._taken if reading is None else set(reading)
        self._presets = {p.info.name: p for p in presets}
        self._scenarios = {scenario.name: scenario for scenario in shipped()}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Start a sensor, or play a scenario", classes="title")
            with Horizontal(classes="choice-row"):
                yield Label("Start")
                choices = [("a sensor", A_SENSOR)]
                choices += [(f"scenario {name}", name) for name in self._scenarios]
                choices += [("scenario from a file…", A_FILE)]
                yield Select(choices, value=A_SENSOR, allow_blank=False, id="scenario")
            with Vertical(id="scenario-fields"):
                with Grid():
                    yield Label("File", id="file-label")
                    yield Input(
                        placeholder="path of a scenario .toml", id="scenario-file", compact=True
                    )
                    yield Label("Speed")
                    yield Input(
                        value="1", placeholder="1 plays it in real time", id="speed", compact=True
                    )
                yield Static("", id="scenario-about")
            with Horizontal(id="preset-row", classes="choice-row"):
                yield Label("Preset")
                options = [(name, name) for name in self._presets] + [("custom…", CUSTOM)]
                yield Select(options, value=CUSTOM, allow_blank=False, id="preset")
            with Grid(id="sensor-fields"):
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
        self._show_mode(A_SENSOR)
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#scenario")
    def _scenario_chosen(self, event: Select.Changed) -> None:
        self._show_mode(str(event.value))

    def _show_mode(self, which: str) -> None:
        """A sensor's fields, or a scenario's (the file's path only for a file)."""
        sensor_mode = which == A_SENSOR
        self.query_one("#preset-row").display = sensor_mode
        self.query_one("#sensor-fields").display = sensor_mode
        self.query_one("#scenario-fields").display = not sensor_mode
        for widget in ("#file-label", "#scenario-file"):
            self.query_one(widget).display = which == A_FILE
        self.query_one("#problem", Static).update("")
        scenario = self._scenarios.get(which)
        about = ""
        if scenario is not None:
            names = ", ".join(s.info.name for s in scenario.sensors)
            minutes = scenario.duration_s / 60
            about = f"{scenario.description}\n{minutes:g} min; sensors: {names}"
        self.query_one("#scenario-about", Static).update(about)
        start = self.query_one("#start", Button)
        start.label = "Start (ctrl+s)" if sensor_mode else "Play (ctrl+s)"

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
        which = str(self.query_one("#scenario", Select).value)
        chosen: SimulatedSensor | ScenarioChoice | None
        chosen, problem = self.read() if which == A_SENSOR else self.read_scenario()
        if chosen is None:
            self.query_one("#problem", Static).update(problem)
            return
        self.dismiss(chosen)

    def read_scenario(self) -> tuple[ScenarioChoice | None, str]:
        """The scenario chosen and its speed, or None and the problem in one line."""
        which = str(self.query_one("#scenario", Select).value)
        scenario = self._scenarios.get(which)
        if scenario is None:
            path = self.query_one("#scenario-file", Input).value.strip()
            if not path:
                return None, "File: the path of a scenario file (.toml)"
            try:
                scenario = load(path)
            except ConfigError as error:
                return None, str(error)
        text = self.query_one("#speed", Input).value.strip() or "1"
        try:
            speed = float(text)
            scenario.scaled(speed)  # refuses a speed or a frequency the gateway would
        except ValueError:
            return None, f"Speed: {text!r} is not a number"
        except ConfigError as error:
            return None, f"Speed: {str(error).removeprefix('--speed ')}"
        running = scenario.taken(self._reading)
        if running:
            return None, (
                f"{', '.join(running)} running already: stop "
                f"{'it' if len(running) == 1 else 'them'} first, or play scenarios on a plant "
                "of their own (--plant)"
            )
        return ScenarioChoice(scenario, speed), ""

    def read(self) -> tuple[SimulatedSensor | None, str]:
        """The sensor the fields describe, or None and the first problem in words."""
        values: dict[str, str] = {}
        for field in self.query("#sensor-fields Input"):
            assert isinstance(field, Input) and field.id is not None
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
