"""TLS settings: flags and environment, what travels to a child, and the one-line refusals of
files that are missing, unusable or given where they would not be used."""

from __future__ import annotations

import argparse
import re
import ssl
from pathlib import Path

import pytest
import trustme

from controlroom.config import Settings, add_arguments
from controlroom.errors import ConfigError, describe
from controlroom.tls import TlsFiles, client_context, database_context

TLS_URL = ("amqps://guest:guest@broker.example:5671/",)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def test_flags_win_over_the_environment_and_travel_to_a_child(
    ca_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(ca_file.read_bytes())
    env = {"CONTROLROOM_AMQP_URL": TLS_URL[0], "CONTROLROOM_AMQP_CA_FILE": str(other)}
    settings = Settings.from_args(parse(["--amqp-ca-file", str(ca_file)]), env)
    assert settings.amqp_tls == TlsFiles(str(ca_file))
    assert Settings.from_env(settings.as_env()) == settings
    assert Settings.from_args(parse([]), env).amqp_tls == TlsFiles(str(other))


def test_tls_files_without_an_amqps_url_are_refused(ca_file: Path) -> None:
    with pytest.raises(ConfigError, match="no broker URL is amqps://"):
        Settings(amqp_tls=TlsFiles(str(ca_file)))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (TlsFiles("/nonexistent/ca.pem"), "CA file '/nonexistent/ca.pem' does not exist"),
        (TlsFiles(None, None, "/some/key.pem"), "a client key was given without its certificate"),
    ],
)
def test_missing_files_are_one_line(files: TlsFiles, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(amqp_urls=TLS_URL, amqp_tls=files)


def test_an_unusable_ca_file_is_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as raised:
        client_context(TlsFiles(str(garbage)), "broker TLS")
    assert str(raised.value) == (
        f"broker TLS: CA file {str(garbage)!r} is not usable: no certificate or crl found"
    )


def test_a_client_key_that_is_not_the_certificates_is_one_line(
    ca_file: Path, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert, other = ca.issue_cert("a"), ca.issue_cert("b")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    other.private_key_pem.write_to_path(str(tmp_path / "k.pem"))
    files = TlsFiles(str(ca_file), str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match=r"client certificate .* or its key is not usable"):
        client_context(files, "broker TLS")


def test_contexts_verify_the_server_and_its_name(ca_file: Path) -> None:
    context = client_context(TlsFiles(str(ca_file)), "broker TLS")
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_database_url_asks_for_tls_as_libpq_does(ca_file: Path) -> None:
    base = "postgresql://db.example/controlroom"
    full = database_context(f"{base}?sslmode=verify-full&sslrootcert={ca_file}")
    assert full is not None and full.check_hostname
    only_ca = database_context(f"{base}?sslmode=verify-ca&sslrootcert={ca_file}")
    assert only_ca is not None and not only_ca.check_hostname
    assert only_ca.verify_mode == ssl.CERT_REQUIRED
    assert database_context(f"{base}?sslmode=require") is None  # asyncpg's, as before
    assert database_context(base) is None
    with pytest.raises(ConfigError, match="sslmode 'verify_full' is not one of"):
        Settings(database_url=f"{base}?sslmode=verify_full")
    with pytest.raises(ConfigError, match=re.escape("CA file '/no/ca.pem' does not exist")):
        Settings(database_url=f"{base}?sslmode=verify-full&sslrootcert=/no/ca.pem")


def test_a_refused_certificate_is_described_in_words() -> None:
    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] long text")
    refused.verify_message = "unable to get local issuer certificate"
    wrapped = ConnectionError(1, "a tuple, as aiormq's errors read")
    wrapped.__cause__ = refused
    assert describe(wrapped) == (
        "TLS: the server's certificate was refused (unable to get local issuer certificate)"
    )
    assert describe(ConnectionError("refused")) == "refused"
