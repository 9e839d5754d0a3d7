"""The result table on stdout and the JSON file other tools read."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

from devsupport.figures import HEADLINE_KEYS

# Which raw limit bounds which figure: (figure, limit) -> printed as figure / limit.
LIMITS: dict[str, list[tuple[str, str]]] = {
    "pipeline": [("readings_per_s", "keyed_rows_per_s"), ("readings_per_s", "copy_rows_per_s")],
    "datamanager": [
        ("readings_per_s", "keyed_rows_per_s"),
        ("readings_per_s", "copy_rows_per_s"),
    ],
    "coordinator": [("readings_per_s", "amqp_hop_msgs_per_s")],
}


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def add_ratios(result: dict[str, Any], ceiling: dict[str, Any] | None) -> None:
    if not ceiling:
        return
    result["ceiling"] = {k: v for k, v in ceiling.items() if k != "case"}
    for figure, limit in LIMITS.get(result.get("case", ""), []):
        value, bound = result.get(figure), ceiling.get(limit)
        if isinstance(value, int | float) and bound:
            result[f"{figure}/{limit}"] = round(value / bound, 3)


def table(result: dict[str, Any]) -> str:
    """Scalars as `name  value`, then one line per process."""
    lines = [f"== {result.get('case', '?')} =="]
    scalars = {k: v for k, v in result.items() if not isinstance(v, dict) and k != "case"}
    width = max((len(k) for k in scalars), default=10)
    for key, value in scalars.items():
        lines.append(f"  {key:<{width}}  {_fmt(value)}")
    for section in ("ceiling", "single_node", "without_tls", "server_cpu_s"):
        if isinstance(result.get(section), dict):
            inner = ", ".join(
                f"{k}={_fmt(v)}" for k, v in result[section].items() if not isinstance(v, dict)
            )
            lines.append(f"  {section:<{width}}  {inner}")
    plain_servers = (result.get("without_tls") or {}).get("server_cpu_s")
    if isinstance(plain_servers, dict):  # the servers' own cost of TLS, beside the line above
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in plain_servers.items())
        lines.append(f"  {'server_cpu_s no TLS':<{width}}  {inner}")
    processes = result.get("processes")
    # With --tls: each process's CPU per 1,000 readings without TLS beside it.
    plain = result.get("cpu_ms_per_1k_readings")
    compared = isinstance(plain, dict)
    if isinstance(processes, dict) and processes:
        header = f"  {'process':<24} {'cpu s':>8} {'ms/1k rdg':>10} {'peak RSS MB':>12}"
        lines.append(header + (f" {'ms/1k no TLS':>13}" if compared else ""))
        for name, usage in processes.items():
            line = (
                f"  {name:<24} {_fmt(usage['cpu_s']):>8} "
                f"{_fmt(usage['cpu_ms_per_1k_readings']):>10} {_fmt(usage['peak_rss_mb']):>12}"
            )
            if isinstance(plain, dict):
                line += f" {_fmt(plain.get(name, {}).get('plain')):>13}"
            lines.append(line)
    return "\n".join(lines)


def write_json(path: Path, results: list[dict[str, Any]]) -> None:
    """One object: the machine, and the case's figures (or a list of runs under `runs`)."""
    document: dict[str, Any] = {"machine": machine()}
    if len(results) == 1:
        document |= results[0]
    else:
        document["runs"] = results
        document |= summarise(results)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of repeated runs for the headline figures; audit_clean only if all were."""
    summary: dict[str, Any] = {"case": results[0].get("case")}
    for key in HEADLINE_KEYS:
        values = sorted(r[key] for r in results if isinstance(r.get(key), int | float))
        if values:
            summary[key] = values[len(values) // 2]
    cleans = [r["audit_clean"] for r in results if "audit_clean" in r]
    if cleans:
        summary["audit_clean"] = all(cleans)
    return summary


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)
