"""spawn area of the screen."""
