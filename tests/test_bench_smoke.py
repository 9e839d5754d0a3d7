"""The benchmark harness runs end to end on a tiny load and writes the figures it promises.

No figure is asserted: performance is shown by running the benchmark, not by timed tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from devsupport.figures import HEADLINE_KEYS
from tests.conftest import TEST_AMQP_URL, TEST_DATABASE_URL

PIPELINE_KEYS = {*HEADLINE_KEYS, "audit_clean", "processes"}


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench ARGS...` on the test broker and database."""
    env = os.environ | {
        "CONTROLROOM_AMQP_URL": TEST_AMQP_URL,
        "CONTROLROOM_DATABASE_URL": TEST_DATABASE_URL,
    }
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env=env,
        # A hang's bound, not a figure: a pipeline run makes its roles first (rabbitmqctl boots
        # an Erlang VM per call: 10 s on a quiet machine, 45 s on a busy one), twice with --tls.
        timeout=300,
        check=False,
    )


def test_pipeline_bench_on_a_tiny_load(tmp_path: Path) -> None:
    figures = tmp_path / "pipeline.json"
    result = bench(
        "pipeline", "--sensors", "20", "--freq", "10", "--gateways", "1",
        "--warmup", "1", "--duration", "3", "--no-ceiling", "--json", str(figures),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== pipeline ==" in result.stdout
    document = orjson.loads(figures.read_bytes())
    assert document.keys() >= PIPELINE_KEYS
    assert document["audit_clean"] is True
    assert document["roles"] is True  # every process under its role (broker init first)
    assert document["readings_per_s"] > 0
    assert set(document["processes"]) == {"coordinator", "datamanager", "sensors-g1"}
    assert document["machine"]["cpus"] >= 1


def test_ceiling_bench_measures_each_limit(tmp_path: Path) -> None:
    figures = tmp_path / "ceiling.json"
    result = bench("ceiling", "--duration", "0.5", "--json", str(figures))
    assert result.returncode == 0, result.stdout + result.stderr
    document = orjson.loads(figures.read_bytes())
    for limit in ("amqp_hop_msgs_per_s", "copy_rows_per_s", "keyed_rows_per_s"):
        assert document[limit] > 0, limit


HISTORY_KEYS = {
    "window_p99_ms",
    "bytes_per_reading_raw",
    "bytes_per_reading_rolled",
    "ingest_ratio_partitioned",
    "retention_drop_s",
    "export_rows_per_s",
    "longest_commit_gap_s",
}


def test_history_bench_on_a_tiny_fill(tmp_path: Path) -> None:
    figures = tmp_path / "history.json"
    result = bench("history", "--readings", "5000", "--duration", "0.3", "--json", str(figures))
    assert result.returncode == 0, result.stdout + result.stderr
    document = orjson.loads(figures.read_bytes())
    assert document.keys() >= HISTORY_KEYS
    assert set(document["window_p99_ms"]) == {
        "1 min", "15 min", "1 h", "24 h", "7 d", "30 d", "1 y"
    }  # fmt: skip
    assert document["readings"] == 5000
    assert document["export_complete"] is True
    assert document["rollup_partitions_packed"] > 0
    assert document["rollup_partitions_packed_second_round"] == 0
    assert document["raw_partitions_rekeyed"] > 0
    assert document["raw_partitions_rekeyed_second_round"] == 0
