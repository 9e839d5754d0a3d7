"""A question with a few answers, each a button and a key; escape means "cancel"."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChoiceDialog(ModalScreen[str | None]):
    """Dismisses with the chosen answer's value, or None on escape."""

    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical {
        width: 64; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ChoiceDialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ChoiceDialog Button { margin-left: 1; min-width: 8; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, answers: list[tuple[str, str, str]]) -> None:
        """answers: (key, label, value); the first is the default button."""
        super().__init__()
        self._question = question
        self._answers = answers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, markup=False)
            with Horizontal():
                for index, (key, label, value) in enumerate(self._answers):
                    yield Button(
                        f"{label} ({key})" if key else label,
                        id=f"answer-{value}",
                        variant="primary" if index == 0 else "default",
                    )

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_key(self, event: Key) -> None:
        for key, _, value in self._answers:
            if key and event.key == key:
                event.stop()
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        assert event.button.id is not None
        self.dismiss(event.button.id.removeprefix("answer-"))

    def action_cancel(self) -> None:
        self.dismiss(None)
