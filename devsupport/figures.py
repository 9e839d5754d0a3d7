"""The benchmark's headline figures by name: the bench reports the median of each over repeated
runs, and its smoke test checks that a run writes them all."""

from __future__ import annotations

HEADLINE_KEYS = (
    "readings_per_s",
    "commit_p50_ms",
    "commit_p99_ms",
    "viewer_p50_ms",
    "viewer_p99_ms",
    "cpu_share",
    "max_rss_mb",
)
