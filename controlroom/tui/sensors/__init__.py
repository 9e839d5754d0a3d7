"""sensors area of the screen."""
