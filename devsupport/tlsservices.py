"""A broker node and a PostgreSQL instance of their own, both over TLS, with certificates made
on the spot: what the TLS tests and `bench pipeline --tls` run against.

The broker is a one-node layout of `scripts/cluster` (its own node name, ports, directories and
Erlang cookie; an AMQP listener that speaks TLS only), the database a `LocalPostgres` with
`ssl = on` and `hostssl` lines only. Neither touches the machine's own services. `tls_services`
starts both and stops both on the way out, whatever happened in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import socket
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from controlroom.config import Settings
from controlroom.tls import TlsFiles
from devsupport.certs import Certificates, make_certificates
from devsupport.cluster import LocalCluster
from devsupport.postgres import LocalPostgres

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TlsServices:
    certificates: Certificates
    broker: LocalCluster
    broker_url: str  # amqps://guest:guest@localhost:PORT/
    postgres: LocalPostgres
    plain_broker_url: str | None = None  # with plain_too: the same node without TLS

    def plain_settings(self, base: Settings) -> Settings:
        """`base` on these services without TLS (`plain_too` only): the bench's baseline."""
        assert self.plain_broker_url is not None and self.postgres.plain_too
        return dataclasses.replace(
            base,
            amqp_urls=(self.plain_broker_url,),
            amqp_tls=TlsFiles(),
            database_url=self.postgres.url(host="127.0.0.1", sslmode="disable"),
            history_url=None,
        )

    def database_url(self, *, ca_file: Path | None = None, host: str = "localhost",
                     mode: str = "verify-full") -> str:  # fmt: skip
        """The instance's URL asking libpq-style for a verified server and showing the client
        certificate."""
        certificates = self.certificates
        return self.postgres.url(
            host=host,
            sslmode=mode,
            sslrootcert=str(ca_file or certificates.ca_file),
            sslcert=str(certificates.client_cert_file),
            sslkey=str(certificates.client_key_file),
        )

    def settings(self, base: Settings, *, ca_file: Path | None = None) -> Settings:
        """`base` (its plant, its queue type) moved to these services, TLS to both."""
        certificates = self.certificates
        return dataclasses.replace(
            base,
            amqp_urls=(self.broker_url,),
            amqp_tls=TlsFiles(
                str(ca_file or certificates.ca_file),
                str(certificates.client_cert_file),
                str(certificates.client_key_file),
            ),
            database_url=self.database_url(ca_file=ca_file),
            history_url=None,
        )


# The ports scripts/cluster gives node 1 of a layout moved up by an offset (AMQP, distribution,
# management, prometheus, stream) and, with a plain listener beside TLS, AMQP + 100.
_NODE_PORTS = (5681, 25681, 15681, 15791, 5591, 5781)


def free_layout() -> tuple[str, int]:
    """A node name prefix and a port offset no one uses now, so that runs on one machine (two
    checkouts' tests, a test beside the bench) never meet."""
    for _ in range(50):
        offset = random.randrange(40, 900)
        if all(_port_free(port + offset) for port in _NODE_PORTS):
            return "crt" + "".join(random.choices(string.ascii_lowercase, k=6)), offset
    raise RuntimeError("no free ports for a broker node of our own")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.asynccontextmanager
async def tls_services(
    directory: Path,
    *,
    prefix: str | None = None,
    port_offset: int | None = None,
    plain_too: bool = False,
) -> AsyncIterator[TlsServices]:
    """Both services started in `directory` (certificates, the node's files); stopped at the
    end. With `plain_too` both also take connections without TLS (for a baseline). The node's
    name and ports are picked free unless given (`prefix`, `port_offset`), apart from the
    local cluster's and from any other run's."""
    if prefix is None or port_offset is None:
        prefix, port_offset = free_layout()
    certificates = make_certificates(directory / "certs")
    broker = LocalCluster(
        directory / "broker", nodes=1, prefix=prefix, port_offset=port_offset,
        tls_dir=certificates.directory, plain_too=plain_too,
    )  # fmt: skip
    postgres = LocalPostgres(certificates.server, plain_too=plain_too)
    try:
        async with asyncio.TaskGroup() as starting:  # a failure cancels the other start
            urls = starting.create_task(broker.start())
            starting.create_task(postgres.start())
        plain = (await broker.plain_urls())[0] if plain_too else None
        yield TlsServices(certificates, broker, urls.result()[0], postgres, plain)
    finally:
        results = await asyncio.gather(broker.stop(), postgres.stop(), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.error("stopping a TLS service failed: %s", result)
