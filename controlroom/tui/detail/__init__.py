"""detail area of the screen."""
