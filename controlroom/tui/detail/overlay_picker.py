"""The sensor to lay over the detail screen's chart: a list of the others, narrowed as a name
is typed (a plant may have thousands)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

SHOWN = 200  # at most this many names listed; typing narrows the rest


class OverlayPicker(ModalScreen[str | None]):
    """Dismisses with the chosen sensor's name, or None."""

    DEFAULT_CSS = """
    OverlayPicker { align: center middle; }
    OverlayPicker > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    OverlayPicker Input { height: 1; margin-bottom: 1; }
    OverlayPicker OptionList { height: auto; max-height: 16; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._names = sorted(names)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Lay a sensor over the chart (enter picks, esc cancels)")
            yield Input(placeholder="type to narrow", id="narrow", compact=True)
            yield OptionList(id="names")

    def on_mount(self) -> None:
        self._show("")
        self.query_one("#narrow", Input).focus()

    @on(Input.Changed, "#narrow")
    def _narrowed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, text: str) -> None:
        wanted = text.strip().lower()
        names = [name for name in self._names if wanted in name.lower()][:SHOWN]
        options = self.query_one("#names", OptionList)
        options.clear_options()
        options.add_options([Option(name, id=name) for name in names])
        if names:
            options.highlighted = 0

    @on(Input.Submitted, "#narrow")
    def _pick_highlighted(self) -> None:
        options = self.query_one("#names", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#names")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        """Up and down move through the list while the name is typed."""
        options = self.query_one("#names", OptionList)
        if options.option_count:
            at = (options.highlighted or 0) + step
            options.highlighted = max(0, min(options.option_count - 1, at))

    def action_cancel(self) -> None:
        self.dismiss(None)
