"""Certificates for tests and benchmarks, made by trustme (a test CA, not hand-rolled crypto).

One call writes a directory of PEM files: the CA, a server certificate for `localhost` only
(both services present it; a client that dials 127.0.0.1 must refuse it: the name is checked),
a client certificate, and a second CA that signed none of
them (what a client that trusts the wrong CA holds). The names are those `scripts/cluster`
reads from `CONTROLROOM_CLUSTER_TLS_DIR`: ca.pem, server.pem, server.key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

from devsupport.postgres import ServerCertificate


@dataclass(frozen=True, slots=True)
class Certificates:
    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def wrong_ca_file(self) -> Path:
        return self.directory / "wrong-ca.pem"

    @property
    def server(self) -> ServerCertificate:
        return ServerCertificate(
            self.directory / "server.pem", self.directory / "server.key", self.ca_file
        )

    @property
    def client_cert_file(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key_file(self) -> Path:
        return self.directory / "client.key"


def make_certificates(directory: Path) -> Certificates:
    """A fresh CA and the certificates signed by it, written into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    made = Certificates(directory)
    ca = trustme.CA(organization_name="controlroom test CA")
    ca.cert_pem.write_to_path(str(made.ca_file))
    trustme.CA(organization_name="some other CA").cert_pem.write_to_path(str(made.wrong_ca_file))
    server = ca.issue_cert("localhost")  # not 127.0.0.1: a client that dials it must refuse
    _write_chain(server, made.directory / "server.pem", made.directory / "server.key")
    client = ca.issue_cert("controlroom-client")
    _write_chain(client, made.client_cert_file, made.client_key_file)
    return made


def _write_chain(cert: trustme.LeafCert, cert_file: Path, key_file: Path) -> None:
    cert_file.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key_file.write_bytes(cert.private_key_pem.bytes())
    key_file.chmod(0o600)
