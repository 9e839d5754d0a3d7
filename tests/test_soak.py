"""The soak, short (1 minute, CONTROLROOM_SOAK_S to change it): memory and backlog stay flat.

`python -m bench.soak` runs 30 minutes by default and is the figure docs/reliability.md
quotes; this is the same code at CI length, so a leak or a growing backlog fails the build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import TEST_AMQP_URL, TEST_DATABASE_URL

SOAK_S = float(os.environ.get("CONTROLROOM_SOAK_S", "60"))


@pytest.mark.timeout(SOAK_S + 400)
def test_soak_stays_flat(tmp_path: Path) -> None:
    env = os.environ | {
        "CONTROLROOM_AMQP_URL": TEST_AMQP_URL,
        "CONTROLROOM_DATABASE_URL": TEST_DATABASE_URL,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--duration", str(SOAK_S), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=SOAK_S + 300,
        check=False,
    )
    report = result.stdout + result.stderr[-3000:]
    figures = orjson.loads((tmp_path / "soak.json").read_bytes())
    assert figures["audit_clean"] is True, report
    assert figures["samples"] >= 20, report
    assert figures["stored_readings_per_s"] > 0.5 * figures["offered_readings_per_s"], report
    assert figures["rss_flat"], report
    assert figures["backlog_flat"], report
    assert result.returncode == 0, report
    assert (tmp_path / "soak.txt").read_text().startswith("soak:")
    assert (tmp_path / "soak.png").exists() or "plot" in (tmp_path / "soak.txt").read_text()
