"""alarms area of the screen."""
