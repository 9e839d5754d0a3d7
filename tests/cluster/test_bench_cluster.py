"""`python -m bench pipeline --cluster` runs end to end on a tiny load: the baseline on the
machine's node, then the local cluster with quorum queues replicated on its three nodes.

No figure is asserted: performance is shown by running the benchmark, not by timed tests.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from devsupport.cluster import LocalCluster
from tests.test_bench_smoke import PIPELINE_KEYS, bench

pytestmark = pytest.mark.cluster


def test_pipeline_bench_on_the_cluster_beside_one_node(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    figures = tmp_path / "cluster.json"
    result = bench(
        "pipeline", "--cluster", "--sensors", "20", "--freq", "10", "--gateways", "1",
        "--warmup", "1", "--duration", "3", "--no-ceiling", "--json", str(figures),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    document = orjson.loads(figures.read_bytes())
    assert document.keys() >= PIPELINE_KEYS | {"single_node", "readings_per_s/single_node"}
    assert (document["broker_nodes"], document["queue_type"]) == (3, "quorum")
    assert document["persist_replicas"] == 3
    assert document["roles"] is True  # broker init on the cluster (through scripts/cluster)
    assert document["audit_clean"] is True
    assert document["single_node"]["audit_clean"] is True
