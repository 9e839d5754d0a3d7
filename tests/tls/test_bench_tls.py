"""`python -m bench pipeline --tls` runs end to end on a tiny load: without TLS, then with TLS to
both services, on a broker node and a PostgreSQL instance the bench starts and stops itself.

No figure is asserted: performance is shown by running the benchmark, not by timed tests.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.test_bench_smoke import PIPELINE_KEYS, bench


def test_pipeline_bench_with_tls_beside_without(tmp_path: Path) -> None:
    figures = tmp_path / "tls.json"
    result = bench(
        "pipeline", "--tls", "--sensors", "20", "--freq", "10", "--gateways", "1",
        "--warmup", "1", "--duration", "3", "--no-ceiling", "--json", str(figures),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    document = orjson.loads(figures.read_bytes())
    assert document.keys() >= PIPELINE_KEYS | {"without_tls", "readings_per_s/without_tls"}
    assert document["tls"] is True
    assert document["roles"] is True
    assert document["audit_clean"] is True
    assert document["without_tls"]["audit_clean"] is True
    per_process = document["cpu_ms_per_1k_readings"]
    assert per_process.keys() >= {"coordinator", "datamanager"}
    assert all(set(figures) == {"tls", "plain"} for figures in per_process.values())
