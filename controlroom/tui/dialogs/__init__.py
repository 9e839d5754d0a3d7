"""dialogs area of the screen."""
