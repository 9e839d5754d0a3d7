"""history area of the screen: the alarm history and the action log, from PostgreSQL."""
