"""A line of text from the operator: a comment on an alarm, or the comment that goes with an
acknowledgement. Enter (or the button) sends it, escape cancels; a required text that is still
empty is refused beside the field, not sent."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

MAX_TEXT = 500


class TextDialog(ModalScreen[str | None]):
    """Dismisses with the text (stripped; "" when optional and left empty), or None."""

    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical {
        width: 72; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    TextDialog #text-problem { color: $error; height: auto; }
    TextDialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    TextDialog Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, action: str, *, required: bool, placeholder: str) -> None:
        super().__init__()
        self._question = question
        self._action = action
        self.required = required
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, markup=False)
            yield Input(placeholder=self._placeholder, max_length=MAX_TEXT, id="text")
            yield Static("", id="text-problem")
            with Horizontal():
                yield Button(f"{self._action} (enter)", id="send", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Input.Changed, "#text")
    def _typed(self) -> None:
        self.query_one("#text-problem", Static).update("")

    @on(Input.Submitted, "#text")
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if self.required and not text:
            self.query_one("#text-problem", Static).update("type something first (escape cancels)")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
