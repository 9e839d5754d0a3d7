"""The bottom line: the key bindings, and where the browser view of this plant is served."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer, Label

# Below this width the bindings need the whole line; the URL stays in the help screen.
URL_MIN_WIDTH = 110


class PlantFooter(Footer):
    DEFAULT_CSS = """
    PlantFooter .browser-url {
        dock: right;
        width: auto;
        padding: 0 1;
        color: $footer-description-foreground;
    }
    """

    def __init__(self, browser_url: str | None = None) -> None:
        super().__init__()
        self.browser_url = browser_url

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if self.browser_url:
            label = Label(f"browser {self.browser_url}", classes="browser-url")
            label.display = self.size.width >= URL_MIN_WIDTH
            yield label

    def on_resize(self, event: events.Resize) -> None:
        for label in self.query(".browser-url"):
            label.display = event.size.width >= URL_MIN_WIDTH
