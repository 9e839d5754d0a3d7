"""header area of the screen."""
