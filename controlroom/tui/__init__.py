"""The control room's terminal UI. `ControlRoom` is the app; everything else is internal."""

from controlroom.tui.app import ControlRoom

__all__ = ["ControlRoom"]
