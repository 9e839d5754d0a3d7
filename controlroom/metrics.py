"""Prometheus metrics: every figure a worker exposes, in one place, and the endpoint.

One process is one worker, so the client library's process-wide registry is the worker's. A
worker started with `--metrics-port PORT` serves them at http://HOST:PORT/metrics (loopback
unless `--metrics-host` says otherwise); without the flag they are kept but not served. The
names are the same in every worker, so one dashboard reads them all; Prometheus's `job` and
`instance` labels tell the workers apart.

The counters are the same figures the audit and the bridge's `/healthz` report: readings in
and out of each hop, so a scrape can be checked against what is stored.
"""

from __future__ import annotations

import argparse
import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from controlroom.errors import ConfigError

log = logging.getLogger(__name__)

READINGS_IN = Counter(
    "controlroom_readings_in",
    "Readings this worker took in (a sensor: taken; a coordinator, a datamanager or a bridge: "
    "received)",
)
READINGS_OUT = Counter(
    "controlroom_readings_out",
    "Readings this worker passed on (a sensor: confirmed by the broker; a coordinator: confirmed "
    "into persist; a datamanager: committed to PostgreSQL, a redelivery counted again; a bridge: "
    "folded readings queued for a client, once per client)",
)
BATCHES = Counter(
    "controlroom_batches",
    "Messages that carried readings on (a coordinator's persist batches, a datamanager's "
    "transactions)",
)
BACKLOG = Gauge(
    "controlroom_backlog_readings",
    "Readings held, waiting to be passed on (a sensor's buffer, a datamanager's gathered work)",
)
COMMIT_SECONDS = Histogram(
    "controlroom_commit_seconds",
    "A datamanager transaction, from its first statement to its commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RECONNECTS = Counter("controlroom_reconnects", "Times the broker connection came back after a loss")
DEAD_LETTERS = Counter(
    "controlroom_dead_letters", "Messages this worker refused and sent to the dead-letter queue"
)
ALARMS_RAISED = Counter("controlroom_alarms_raised", "Alarms this coordinator raised")
VIEWERS = Gauge("controlroom_viewers_connected", "Browsers connected to this bridge")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics")
    group.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (default: not served)",
    )
    group.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the metrics endpoint binds (default 127.0.0.1)",
    )


def serve(args: argparse.Namespace) -> None:
    """Start the endpoint if the flags ask for one; ConfigError if it cannot listen."""
    port: int | None = getattr(args, "metrics_port", None)
    if port is None:
        return
    if not 1 <= port <= 65535:
        raise ConfigError(f"--metrics-port {port} is not a TCP port")
    try:
        start_http_server(port, addr=args.metrics_host)
    except OSError as error:
        raise ConfigError(
            f"cannot serve metrics on {args.metrics_host}:{port}: {error.strerror or error}"
        ) from None
    log.info("metrics at http://%s:%d/metrics", args.metrics_host, port)
