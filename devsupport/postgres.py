"""A PostgreSQL instance of its own, beside the machine's: for tests and benchmarks that need a
server configured otherwise (TLS) without touching the machine's own.

`initdb` into a directory of its own, its own port on 127.0.0.1, its unix socket in that
directory (no hba line lets anyone in there), trust authentication (the tests' rule) and, with
certificates, TLS: `ssl = on` and, unless told to accept plain connections too, an hba
that has only `hostssl` lines, so a connection without TLS is refused. PostgreSQL refuses to
run as root: as root, the instance runs as the `postgres` user, which then owns its directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devsupport.net import free_port

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


class PostgresError(RuntimeError):
    """initdb or pg_ctl failed; the message says which and ends with its last line."""


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """The PEM files a server presents: its certificate chain, its key, and the CA it checks
    client certificates against."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def bin_dir() -> Path:
    """The newest installed PostgreSQL's programs (Debian's layout)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise PostgresError("no PostgreSQL server programs in /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in Path(path).parent.parent.name.split(".") if part.isdigit())


class LocalPostgres:
    """One instance in a fresh temporary directory; `start`, then `stop` (always)."""

    def __init__(
        self, certificate: ServerCertificate | None = None, *, plain_too: bool = False
    ) -> None:
        self.certificate = certificate
        self.plain_too = plain_too
        self.port = 0
        self.directory: Path | None = None
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def socket_dir(self) -> Path:
        assert self.directory is not None
        return self.directory

    def url(self, database: str = "controlroom", host: str = "localhost", **query: str) -> str:
        """A URL to the instance over TCP, with libpq's query parameters (sslmode=...)."""
        extra = "&".join(f"{key}={value}" for key, value in query.items())
        return f"postgresql://postgres@{host}:{self.port}/{database}" + (
            f"?{extra}" if extra else ""
        )

    async def start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="controlroom-pg-"))
        data = self.directory / "data"
        self.port = free_port()
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        programs = bin_dir()
        await self._run(
            str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.directory}'",
            "fsync = off",  # a throwaway instance; the machine's own keeps its data safe
            "synchronous_commit = off",
            "full_page_writes = off",
        ]
        hba: list[str] = []  # no unix-socket line: every way in is TCP, TLS-only with certificates
        if self.certificate is not None:
            for name, source in (
                ("server.crt", self.certificate.cert_file),
                ("server.key", self.certificate.key_file),
                ("ca.crt", self.certificate.ca_file),
            ):
                shutil.copyfile(source, data / name)
                os.chmod(data / name, 0o600)
                self._own(data / name)
            settings += [
                "ssl = on",
                "ssl_cert_file = 'server.crt'",
                "ssl_key_file = 'server.key'",
                "ssl_ca_file = 'ca.crt'",
            ]
            hba.append("hostssl all all 127.0.0.1/32 trust")
            if self.plain_too:
                hba.append("hostnossl all all 127.0.0.1/32 trust")
        else:
            hba.append("host all all 127.0.0.1/32 trust")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        (data / "pg_hba.conf").write_text("\n".join(hba) + "\n")
        self._own(data / "pg_hba.conf")
        await self._run(
            str(programs / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "server.log"),
            "-w", "-t", str(START_TIMEOUT_S), "start",
        )  # fmt: skip
        log.info("PostgreSQL instance on 127.0.0.1:%d in %s", self.port, self.directory)

    async def stop(self) -> None:
        """Stop the instance (fast shutdown) and delete its directory; harmless if not started."""
        if self.directory is None:
            return
        data = self.directory / "data"
        try:
            if (data / "postmaster.pid").exists():
                await self._run(
                    str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                    "-t", str(STOP_TIMEOUT_S), "stop",
                )  # fmt: skip
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _own(self, path: Path) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    async def _run(self, *command: str) -> None:
        argv = list(command)
        if self._user is not None:
            argv = ["runuser", "-u", self._user, "--", *argv]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self.directory,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT_S + 30)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            lines = out.decode(errors="replace").strip().splitlines() or ["(no output)"]
            raise PostgresError(f"{Path(command[0]).name} failed: {lines[-1]}")
