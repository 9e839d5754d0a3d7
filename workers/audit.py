"""`controlroom-worker audit`: proves nothing was lost or stored twice (exit 1 if it was)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import orjson

from controlroom.clock import parse_duration
from controlroom.config import Settings
from controlroom.db import connect
from controlroom.db.audit import AuditReport, RunAudit, audit
from controlroom.errors import ConfigError

HELP = (
    "compare each sensor run's confirmed readings with what is stored; report gaps and duplicates"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only readings taken since WHEN: an ISO 8601 time or an age such as 10m, 2h, 1d",
    )
    parser.add_argument("--verbose", action="store_true", help="list every run, not only bad ones")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    if text is None:
        return None
    age = parse_duration(text)
    if age is not None:
        return (now or datetime.now(UTC)) - age
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither an ISO 8601 time nor an age like 10m"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_run(run: RunAudit) -> str:
    gaps = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in run.gaps) or "-"
    verdict = "ok" if run.clean else "BAD"
    return (
        f"{verdict:4} {run.sensor:32.32} run {run.run[:8]}  seq {run.expected_first}-"
        f"{run.expected_last}  stored {run.stored}  missing {run.missing}  dropped {run.dropped}"
        f"  duplicates {run.duplicates}  gaps {gaps}"
    )


def window(report: AuditReport) -> str:
    """What the audit covered, in words."""
    if report.since is None:
        return "every reading stored"
    covered = f"readings taken since {report.since.isoformat()}"
    if report.horizon is not None and report.since == report.horizon:
        return f"{covered}, the retained window: older ones were dropped by retention"
    return covered


def format_report(report: AuditReport, verbose: bool) -> str:
    lines = [format_run(run) for run in report.runs if verbose or not run.clean]
    verdict = "clean" if report.clean else "NOT CLEAN"
    lines.append(
        f"audit {verdict} ({window(report)}): {len(report.runs)} sensor runs, "
        f"{report.stored} readings stored, "
        f"{report.missing} confirmed readings missing, {report.duplicates} duplicates, "
        f"{report.dropped} dropped by sensors before confirmation"
    )
    return "\n".join(lines)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    since = parse_since(args.since)
    connection = await connect(settings)
    try:
        report = await audit(connection, since)
    finally:
        await connection.close()
    if args.json:
        sys.stdout.write(
            orjson.dumps(
                {
                    "clean": report.clean,
                    "since": report.since.isoformat() if report.since else None,
                    "horizon": report.horizon.isoformat() if report.horizon else None,
                    "stored": report.stored,
                    "missing": report.missing,
                    "duplicates": report.duplicates,
                    "dropped": report.dropped,
                    "runs": [run for run in report.runs if args.verbose or not run.clean],
                }
            ).decode()
            + "\n"
        )
    else:
        print(format_report(report, args.verbose))
    return 0 if report.clean else 1
