"""Simulated sensors: their random walks (`walks`), what one is and the flags that describe it
(`sensor`), and the reference plant (`presets`)."""
