"""TLS end to end: the plant over TLS to a broker node and a PostgreSQL instance of the test's
own (certificates by trustme), the bridge's /history, the audit clean and an export; a wrong CA,
a host name the certificate does not name, or a connection without TLS is refused with one line
and exit status 2."""

from __future__ import annotations

import asyncio
import dataclasses
import urllib.request
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from controlroom.config import Settings
from controlroom.db import connect
from devsupport.tlsservices import TlsServices
from tests.bridge.conftest import LISTENING
from tests.faults.harness import Plant
from tests.support import Worker, until


async def test_the_plant_runs_over_tls_to_both_and_audits_clean(
    settings: Settings, tls: TlsServices, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    plant = Plant(settings, start_worker)
    try:
        load = await plant.steady_load()

        db = await plant.connection()
        rows = await db.fetch(
            "SELECT a.application_name, s.ssl, s.version FROM pg_stat_ssl s "
            "JOIN pg_stat_activity a USING (pid) WHERE a.application_name LIKE 'controlroom (%'"
        )
        assert len(rows) >= 2, rows  # the datamanager (its writers) and the test's own
        assert all(row["ssl"] and row["version"] in ("TLSv1.2", "TLSv1.3") for row in rows), rows

        listed = await tls.broker.ctl(
            1, "list_connections", "client_properties", "ssl", "peer_cert_issuer",
            "--no-table-headers",
        )  # fmt: skip
        ours = [line for line in listed.splitlines() if settings.plant in line]
        assert len(ours) >= 4, listed  # the sensor, the gateway, the coordinator, the datamanager
        assert all("\ttrue\t" in line and "controlroom test CA" in line for line in ours), listed

        # The bridge's /history reads over TLS too (and hears the events over it).
        bridge = start_worker("bridge", "--port", "0", log_name="bridge")
        address = await until(lambda: _listening(bridge), "the bridge to listen", timeout=20)
        history = await asyncio.to_thread(_fetch, f"http://{address}/history")
        assert "s1" in orjson.loads(history)["sensors"]

        await plant.ends_clean(load)
        audit = start_worker("audit", log_name="audit")
        assert await audit.wait(60) == 0, audit.log_text()
        assert "clean" in audit.log_text(), audit.log_text()
        out = tmp_path / "s1.csv"
        export = start_worker(
            "export", "--sensor", "s1", "--since", "1h", "--format", "csv", "--out", str(out),
            log_name="export",
        )  # fmt: skip
        assert await export.wait(60) == 0, export.log_text()
        assert len(out.read_text().splitlines()) > 100
    finally:
        await plant.close()


def _listening(bridge: Worker) -> str | None:
    assert bridge.running(), bridge.log_text()
    found = LISTENING.search(bridge.log_text())
    return found.group(2) if found else None


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body: bytes = answer.read()
        return body


def refusals(tls: TlsServices) -> dict[str, tuple[list[str], str]]:
    """Each way of getting TLS wrong: the flags, and what the one line must say."""
    wrong_ca = str(tls.certificates.wrong_ca_file)
    by_address = tls.broker_url.replace("@localhost:", "@127.0.0.1:")
    return {
        "broker, wrong CA": (
            ["--amqp-ca-file", wrong_ca],
            "TLS: the server's certificate was refused (self-signed certificate in certificate",
        ),
        "broker, a name the certificate lacks": (
            ["--amqp-url", by_address],
            "certificate is not valid for '127.0.0.1'",
        ),
        "database, wrong CA": (
            ["--database-url", tls.database_url(ca_file=tls.certificates.wrong_ca_file)],
            "TLS: the server's certificate was refused (self-signed certificate in certificate",
        ),
        "database, a name the certificate lacks": (
            ["--database-url", tls.database_url(host="127.0.0.1")],
            "certificate is not valid for '127.0.0.1'",
        ),
        "database, no TLS": (
            ["--database-url", tls.postgres.url(sslmode="disable")],
            "no encryption",
        ),
    }


CASES = [
    "broker, wrong CA",
    "broker, a name the certificate lacks",
    "database, wrong CA",
    "database, a name the certificate lacks",
    "database, no TLS",
]


@pytest.mark.parametrize("case", CASES)
async def test_tls_gone_wrong_is_one_line_and_exit_2(
    settings: Settings, tls: TlsServices, start_worker: Callable[..., Worker], case: str
) -> None:
    """A one-shot command exits; a running worker (the datamanager, the coordinator's takeover)
    takes a refused database like an outage instead: one line, then it tries again, since a
    server's certificate may be replaced while it runs."""
    flags, expected = refusals(tls)[case]
    command = "coordinator" if case.startswith("broker") else "audit"
    worker = start_worker(command, *flags, log_name="refused")
    status = await worker.wait(30)
    lines = worker.log_text().strip().splitlines()
    assert status == 2, worker.log_text()
    assert len(lines) == 1, lines
    assert expected in lines[0], lines
    assert "Traceback" not in lines[0]


async def test_verify_ca_skips_only_the_name(settings: Settings, tls: TlsServices) -> None:
    """sslmode=verify-ca (libpq's meaning): the chain is checked, the host name is not."""
    by_address = dataclasses.replace(
        settings, database_url=tls.database_url(host="127.0.0.1", mode="verify-ca")
    )
    connection = await connect(by_address)
    try:
        assert await connection.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    finally:
        await connection.close()
