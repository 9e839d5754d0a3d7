"""footer area of the screen."""
