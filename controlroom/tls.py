"""TLS for the client side of every connection: the one place an `ssl.SSLContext` is made.

The broker's connection (`amqps://` with `--amqp-ca-file`, `--amqp-cert-file`,
`--amqp-key-file`) and the database's (libpq's own URL parameters: `sslmode=verify-full`,
`sslrootcert`, `sslcert`, `sslkey`, so the same URL works for psql and pg_dump) both come here.
A context verifies the server's certificate against the CA file (the system's trust store when
none is given) and, unless told `verify-ca`, that the certificate names the host connected to.
A file that cannot be used is one `ConfigError` line that names it, never a traceback.
"""

from __future__ import annotations

import functools
import os
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from controlroom.errors import ConfigError, ssl_reason

# libpq's sslmode values; the first three leave encryption and checks to asyncpg as before.
UNVERIFIED_SSLMODES = ("disable", "allow", "prefer", "require")
VERIFIED_SSLMODES = ("verify-ca", "verify-full")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """What a client trusts and how it proves itself: PEM file paths, each optional."""

    ca_file: str | None = None  # None: the system's trust store
    cert_file: str | None = None  # a client certificate (its chain may follow it)
    key_file: str | None = None  # its key; None: the key is in cert_file

    def check(self, what: str) -> None:
        """Refuse a file that is not there (before anything connects) or a key without its
        certificate."""
        if self.key_file and not self.cert_file:
            raise ConfigError(f"{what}: a client key was given without its certificate")
        for kind, path in (("CA", self.ca_file), ("certificate", self.cert_file),
                           ("key", self.key_file)):  # fmt: skip
            if path and not os.path.isfile(path):
                raise ConfigError(f"{what}: {kind} file {path!r} does not exist")


def client_context(files: TlsFiles, what: str, *, check_hostname: bool = True) -> ssl.SSLContext:
    """A context that verifies the server (and its name, unless told not to); cached, since
    loading a CA costs milliseconds and every reconnect would pay them."""
    return _client_context(files, what, check_hostname)


@functools.lru_cache(maxsize=16)
def _client_context(files: TlsFiles, what: str, check_hostname: bool) -> ssl.SSLContext:
    files.check(what)
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=files.ca_file)
    except (ssl.SSLError, OSError) as error:
        raise ConfigError(
            f"{what}: CA file {files.ca_file!r} is not usable: {ssl_reason(error)}"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if files.cert_file:
        try:
            context.load_cert_chain(files.cert_file, files.key_file)
        except (ssl.SSLError, OSError) as error:
            raise ConfigError(
                f"{what}: client certificate {files.cert_file!r} or its key is not usable: "
                f"{ssl_reason(error)}"
            ) from None
    return context


def database_context(url: str) -> ssl.SSLContext | None:
    """The context for a database URL that asks for a verified server (`sslmode=verify-ca` or
    `verify-full`, with `sslrootcert`, `sslcert`, `sslkey`); None for the other modes, which
    asyncpg handles as libpq does."""
    mode, files = database_tls(url)
    if mode not in VERIFIED_SSLMODES:
        return None
    return client_context(files, "database TLS", check_hostname=mode == "verify-full")


def database_tls(url: str) -> tuple[str | None, TlsFiles]:
    """The URL's sslmode (None if not given) and files; an unknown mode is refused."""
    query = parse_qs(urlsplit(url).query)

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[-1] if values else None

    mode = one("sslmode")
    if mode is not None and mode not in UNVERIFIED_SSLMODES + VERIFIED_SSLMODES:
        choices = ", ".join(UNVERIFIED_SSLMODES + VERIFIED_SSLMODES)
        raise ConfigError(f"database URL: sslmode {mode!r} is not one of {choices}")
    return mode, TlsFiles(one("sslrootcert"), one("sslcert"), one("sslkey"))


def server_context(cert_file: str, key_file: str, what: str) -> ssl.SSLContext:
    """A server's context (the bridge's https and wss): its certificate chain and key."""
    TlsFiles(None, cert_file, key_file).check(what)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as error:
        raise ConfigError(
            f"{what}: certificate {cert_file!r} or its key is not usable: {ssl_reason(error)}"
        ) from None
    return context
