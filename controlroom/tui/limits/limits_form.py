"""The form behind `e`: a sensor's alarm limits (LL, L, H, HH), each with its priority,
deadband and on/off delays, and the reason for the change.

Every field is checked as it is typed, by the rules every editor of definitions goes through
(`controlroom.plant.alarm_limits`: `AlarmLimit` for one limit, `check_limits` for the set), the
reason beside it; the change is sent only when all are right and a reason is given. An empty
value removes that limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from controlroom.errors import ConfigError
from controlroom.plant.alarm_limits import (
    LEVELS,
    PRIORITIES,
    AlarmLimit,
    Level,
    Priority,
    check_limits,
)
from controlroom.tui.states import priority_label

FIELDS = ("value", "priority", "deadband", "on", "off")


@dataclass(frozen=True, slots=True)
class LimitsEdit:
    limits: list[AlarmLimit]
    reason: str


def plain(number: float) -> str:
    """A number as it is to be edited: exact, without a needless `.0`."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _number(text: str, what: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ConfigError(f"{what}: a number") from None


class LimitsForm(ModalScreen[LimitsEdit | None]):
    """Dismisses with the sensor's new limits and the reason, or None when cancelled."""

    DEFAULT_CSS = """
    LimitsForm { align: center middle; }
    LimitsForm > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    LimitsForm .title { text-style: bold; }
    LimitsForm Grid {
        grid-size: 7; grid-columns: 6 12 12 10 9 9 1fr; grid-rows: 1; height: auto;
        grid-gutter: 0 1; margin-top: 1;
    }
    LimitsForm .head { text-style: bold underline; }
    LimitsForm .error { color: $error; }
    LimitsForm #reason-row { height: 1; margin-top: 1; }
    LimitsForm #reason-row Label { width: 8; }
    LimitsForm #reason-row Input { width: 50; }
    LimitsForm #set-problem { color: $error; height: auto; margin-top: 1; }
    LimitsForm #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    LimitsForm Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
    ]

    def __init__(
        self,
        sensor: str,
        unit: str,
        limits: Sequence[AlarmLimit],
        levels: Sequence[Level] = LEVELS,
    ) -> None:
        """`limits`: the sensor's definitions now; those of other levels than `levels` are
        kept as they are."""
        super().__init__()
        self.sensor = sensor
        self._unit = unit
        self._levels = tuple(levels)
        self._now = {limit.level: limit for limit in limits}
        self._kept = [limit for limit in limits if limit.level not in self._levels]

    def compose(self) -> ComposeResult:
        unit = f" ({self._unit})" if self._unit else ""
        with Vertical():
            yield Static(f"Alarm limits of {self.sensor}{unit}", classes="title", markup=False)
            yield Static(
                "An empty value removes the limit. Deadband in the sensor's unit, delays in "
                "seconds; every coordinator applies the change at once.",
                markup=False,
            )
            with Grid():
                for head in ("LEVEL", "VALUE", "PRIORITY", "DEADBAND", "ON-DELAY", "OFF-DELAY"):
                    yield Label(head, classes="head")
                yield Label("", classes="head")
                for level in self._levels:
                    limit = self._now.get(level)
                    key = level.value.lower()
                    yield Label(level.value)
                    yield Input(
                        "" if limit is None else plain(limit.value),
                        id=f"{key}-value",
                        compact=True,
                    )
                    yield Select(
                        [(priority_label(p), p.value) for p in PRIORITIES],
                        value=(limit.priority if limit else _default_priority(level)).value,
                        allow_blank=False,
                        id=f"{key}-priority",
                        compact=True,
                    )
                    for field, number in (
                        ("deadband", limit.deadband if limit else 0.0),
                        ("on", limit.on_delay_s if limit else 0.0),
                        ("off", limit.off_delay_s if limit else 0.0),
                    ):
                        yield Input(plain(number), id=f"{key}-{field}", compact=True)
                    yield Static("", id=f"{key}-problem", classes="error")
            with Horizontal(id="reason-row"):
                yield Label("reason")
                yield Input(
                    placeholder="why (required, in the action log)", id="reason", compact=True
                )
                yield Static("", id="reason-problem", classes="error")
            yield Static("", id="set-problem")
            with Horizontal(id="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{self._levels[0].value.lower()}-value", Input).focus()
        self._check()

    # --- checking ------------------------------------------------------------------------

    def limit_of(self, level: Level) -> AlarmLimit | None:
        """The row's limit; None if its value is empty; ConfigError if a field is wrong."""
        key = level.value.lower()
        text = self.query_one(f"#{key}-value", Input).value
        if not text.strip():
            return None
        priority = self.query_one(f"#{key}-priority", Select).value
        assert isinstance(priority, str)
        return AlarmLimit(
            self.sensor,
            level,
            _number(text, "value"),
            Priority(priority),
            _number(self.query_one(f"#{key}-deadband", Input).value, "deadband"),
            _number(self.query_one(f"#{key}-on", Input).value, "on-delay"),
            _number(self.query_one(f"#{key}-off", Input).value, "off-delay"),
        )

    def problems(self) -> tuple[dict[Level, str], str | None, str | None, list[AlarmLimit]]:
        """(each row's problem, the set's, the reason's, the limits if all rows are right)."""
        rows: dict[Level, str] = {}
        limits: list[AlarmLimit] = []
        for level in self._levels:
            try:
                limit = self.limit_of(level)
            except ConfigError as error:
                rows[level] = str(error).removeprefix(f"{self.sensor} {level.value}: ")
                continue
            if limit is not None:
                limits.append(limit)
        whole = None
        if not rows:
            try:
                check_limits([*limits, *self._kept])
            except ConfigError as error:
                whole = str(error)
        reason = None if self.query_one("#reason", Input).value.strip() else "a reason is required"
        return rows, whole, reason, limits

    @on(Input.Changed)
    @on(Select.Changed)
    def _check(self) -> None:
        rows, whole, reason, _ = self.problems()
        for level in self._levels:
            self.query_one(f"#{level.value.lower()}-problem", Static).update(rows.get(level, ""))
        self.query_one("#set-problem", Static).update(whole or "")
        self.query_one("#reason-problem", Static).update(reason or "")
        self.query_one("#save", Button).disabled = bool(rows or whole or reason)

    @on(Button.Pressed, "#save")
    def action_submit(self) -> None:
        rows, whole, reason, limits = self.problems()
        if rows or whole or reason:
            return
        text = self.query_one("#reason", Input).value.strip()
        self.dismiss(LimitsEdit([*limits, *self._kept], text))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _default_priority(level: Level) -> Priority:
    """A new limit's priority: the seed's (critical beyond, high at the safe range)."""
    return Priority.CRITICAL if level in (Level.LL, Level.HH) else Priority.HIGH
