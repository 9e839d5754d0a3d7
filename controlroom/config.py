"""Where a process finds its broker, its database and its plant.

One home for configuration: environment variables give the defaults, command-line flags win.
Every value is checked here, so a mistake is reported once, as one line, before anything connects.

The broker is a list of addresses (the nodes of a RabbitMQ cluster, or one broker): a repeatable
`--amqp-url`, each value of which may itself be comma-separated, or a comma-separated
`CONTROLROOM_AMQP_URL`. A process connects to any of them and moves to the next when it loses
one (`controlroom.broker.connection`). A comma inside a URL is written `%2C`.

TLS: an `amqps://` broker URL is verified against `--amqp-ca-file` (the system's trust store if
none), with an optional client certificate; a database URL asks for TLS the way libpq does
(`?sslmode=verify-full&sslrootcert=ca.pem`). The contexts are made in `controlroom.tls`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from controlroom.clock import parse_duration
from controlroom.errors import ConfigError
from controlroom.tls import VERIFIED_SSLMODES, TlsFiles, database_tls

DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_DATABASE_URL = "postgresql:///controlroom"
DEFAULT_PLANT = "plant"
DEFAULT_BRIDGE_PORT = 3000  # the browser view, as the original system served it

ENV_AMQP_URL = "CONTROLROOM_AMQP_URL"
ENV_DATABASE_URL = "CONTROLROOM_DATABASE_URL"
ENV_PLANT = "CONTROLROOM_PLANT"
ENV_QUEUE_TYPE = "CONTROLROOM_QUEUE_TYPE"
ENV_HISTORY_URL = "CONTROLROOM_HISTORY_URL"
ENV_AMQP_URL_FILE = "CONTROLROOM_AMQP_URL_FILE"
ENV_DATABASE_URL_FILE = "CONTROLROOM_DATABASE_URL_FILE"
# Where the plants' secrets directories are (one per plant), when --secrets-dir is not given.
ENV_SECRETS_DIR = "CONTROLROOM_SECRETS_DIR"

# The guest login's password is RabbitMQ's well-known default, no secret: no warning for it.
WELL_KNOWN_PASSWORDS = frozenset({"guest"})

log = logging.getLogger(__name__)
ENV_AMQP_CA_FILE = "CONTROLROOM_AMQP_CA_FILE"
ENV_AMQP_CERT_FILE = "CONTROLROOM_AMQP_CERT_FILE"
ENV_AMQP_KEY_FILE = "CONTROLROOM_AMQP_KEY_FILE"
ENV_BELL = "CONTROLROOM_BELL"  # the control room's bell: on (default) or off

_SWITCH = {"on": True, "1": True, "yes": True, "true": True}
_SWITCH |= {"off": False, "0": False, "no": False, "false": False}
# The longest an operator may shelve an alarm for (ISA-18.2 wants shelving bounded): 8h.
ENV_MAX_SHELVE = "CONTROLROOM_MAX_SHELVE"
DEFAULT_MAX_SHELVE_S = 8 * 3600.0

# The type of the plant's durable queues (readings, persist, dead). A quorum queue is replicated
# over the nodes of a cluster (it survives the loss of a minority of them); a classic one lives on
# one node. The rule: quorum when several broker addresses are given, classic for one broker,
# unless chosen. Every process of a plant must agree: a queue's type is fixed when it is declared.
QUEUE_TYPES = ("quorum", "classic")

# A plant name prefixes every exchange and queue and names the plant's PostgreSQL schema, so it
# must be a plain SQL identifier as well as a safe AMQP prefix.
NO_TLS_FILES = TlsFiles()  # the system's trust store, no client certificate

PLANT_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True, slots=True)
class Settings:
    amqp_urls: tuple[str, ...] = (DEFAULT_AMQP_URL,)
    database_url: str = DEFAULT_DATABASE_URL
    plant: str = DEFAULT_PLANT
    queue_type: str | None = None  # as chosen; `durable_queue_type` applies the rule
    # Where the control room reads history (a streaming standby, say); None: database_url.
    history_url: str | None = None
    # What an amqps:// connection trusts and shows (controlroom.tls); unused for amqp://.
    amqp_tls: TlsFiles = NO_TLS_FILES
    # The coordinator refuses a longer shelving, the viewer feed checks before it asks.
    max_shelve_s: float = DEFAULT_MAX_SHELVE_S
    # Where the URLs were read from, if from files: a child process is given the file, never
    # the password (`as_env`).
    amqp_url_file: str | None = None
    database_url_file: str | None = None

    def __post_init__(self) -> None:
        check_plant_name(self.plant)
        if not self.max_shelve_s > 0:
            raise ConfigError("the longest shelving must be a positive duration")
        if self.queue_type is not None and self.queue_type not in QUEUE_TYPES:
            raise ConfigError(
                f"queue type {self.queue_type!r} is not one of {', '.join(QUEUE_TYPES)}"
            )
        if not self.amqp_urls:
            raise ConfigError("no broker URL given")
        for url in self.amqp_urls:
            check_amqp_url(url)
        if len(set(self.amqp_urls)) != len(self.amqp_urls):
            raise ConfigError(f"broker URLs {self.amqp_display!r} name one address twice")
        if self.amqp_tls != NO_TLS_FILES:
            if not any(url.startswith("amqps://") for url in self.amqp_urls):
                raise ConfigError(
                    "broker TLS files were given but no broker URL is amqps://: "
                    "the connection would not be encrypted"
                )
            self.amqp_tls.check("broker TLS")
        check_database_url(self.database_url)
        if self.history_url is not None:
            check_database_url(self.history_url)

    @property
    def amqp_url(self) -> str:
        """The first broker address: for a tool that talks to one node (tests, benchmarks)."""
        return self.amqp_urls[0]

    @property
    def amqp_user(self) -> str:
        """The broker login (of the first address; every address of a plant has the same)."""
        return urlsplit(self.amqp_url).username or "guest"

    @property
    def uses_roles(self) -> bool:
        """The broker login is one of this plant's roles (`broker init` names them
        `<plant>.<role>`), so the plant's shared topology is made and may not be declared."""
        return self.amqp_user.startswith(f"{self.plant}.")

    @property
    def clustered(self) -> bool:
        """Several broker addresses were given: the plant runs on a RabbitMQ cluster."""
        return len(self.amqp_urls) > 1

    def for_history(self) -> Settings:
        """These settings with the history database (read only) as the database."""
        if self.history_url is None:
            return self
        return dataclasses.replace(self, database_url=self.history_url, history_url=None)

    @property
    def durable_queue_type(self) -> str:
        """The type of the plant's durable queues: as chosen, else quorum on a cluster."""
        return self.queue_type or ("quorum" if self.clustered else "classic")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        amqp_file = env.get(ENV_AMQP_URL_FILE) or None
        database_file = env.get(ENV_DATABASE_URL_FILE) or None
        return cls(
            amqp_urls=split_amqp_urls(
                [read_url_file(amqp_file, "broker")]
                if amqp_file
                else [env.get(ENV_AMQP_URL) or DEFAULT_AMQP_URL]
            ),
            database_url=(
                read_url_file(database_file, "database")
                if database_file
                else env.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL
            ),
            plant=env.get(ENV_PLANT) or DEFAULT_PLANT,
            queue_type=env.get(ENV_QUEUE_TYPE) or None,
            history_url=env.get(ENV_HISTORY_URL) or None,
            amqp_tls=TlsFiles(
                env.get(ENV_AMQP_CA_FILE) or None,
                env.get(ENV_AMQP_CERT_FILE) or None,
                env.get(ENV_AMQP_KEY_FILE) or None,
            ),
            max_shelve_s=_max_shelve(env.get(ENV_MAX_SHELVE)),
            amqp_url_file=amqp_file,
            database_url_file=database_file,
        )

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings from the environment, overridden by the flags of `add_arguments`."""
        base = cls.from_env(environ)
        amqp_file = getattr(args, "amqp_url_file", None)
        database_file = getattr(args, "database_url_file", None)
        amqp_urls: Sequence[str] = base.amqp_urls
        if amqp_file:
            amqp_urls = [read_url_file(amqp_file, "broker")]
        elif getattr(args, "amqp_url", None):
            amqp_urls, amqp_file = args.amqp_url, None
        else:
            amqp_file = base.amqp_url_file
        database_url = base.database_url
        if database_file:
            database_url = read_url_file(database_file, "database")
        elif getattr(args, "database_url", None):
            database_url, database_file = args.database_url, None
        else:
            database_file = base.database_url_file
        return cls(
            amqp_urls=split_amqp_urls(amqp_urls),
            database_url=database_url,
            plant=getattr(args, "plant", None) or base.plant,
            queue_type=getattr(args, "queue_type", None) or base.queue_type,
            history_url=getattr(args, "history_url", None) or base.history_url,
            amqp_tls=TlsFiles(
                getattr(args, "amqp_ca_file", None) or base.amqp_tls.ca_file,
                getattr(args, "amqp_cert_file", None) or base.amqp_tls.cert_file,
                getattr(args, "amqp_key_file", None) or base.amqp_tls.key_file,
            ),
            max_shelve_s=base.max_shelve_s,
            amqp_url_file=amqp_file,
            database_url_file=database_file,
        )

    def as_env(self) -> dict[str, str]:
        """The environment that gives a child process these same settings."""
        env = {
            ENV_AMQP_URL: ",".join(self.amqp_urls),
            ENV_DATABASE_URL: self.database_url,
            ENV_PLANT: self.plant,
        }
        if self.amqp_url_file:  # the file, not its password (it wins over the URL)
            env[ENV_AMQP_URL_FILE] = self.amqp_url_file
            env[ENV_AMQP_URL] = DEFAULT_AMQP_URL
        if self.database_url_file:
            env[ENV_DATABASE_URL_FILE] = self.database_url_file
            env[ENV_DATABASE_URL] = DEFAULT_DATABASE_URL
        if self.queue_type:
            env[ENV_QUEUE_TYPE] = self.queue_type
        if self.history_url:
            env[ENV_HISTORY_URL] = self.history_url
        for name, path in (
            (ENV_AMQP_CA_FILE, self.amqp_tls.ca_file),
            (ENV_AMQP_CERT_FILE, self.amqp_tls.cert_file),
            (ENV_AMQP_KEY_FILE, self.amqp_tls.key_file),
        ):
            if path:
                env[name] = path
        if self.max_shelve_s != DEFAULT_MAX_SHELVE_S:
            env[ENV_MAX_SHELVE] = f"{round(self.max_shelve_s)}s"
        return env

    @property
    def amqp_display(self) -> str:
        return ", ".join(mask_url(url) for url in self.amqp_urls)

    @property
    def database_display(self) -> str:
        return mask_url(self.database_url)


def _max_shelve(text: str | None) -> float:
    if not text:
        return DEFAULT_MAX_SHELVE_S
    span = parse_duration(text)
    if span is None or span.total_seconds() <= 0:
        raise ConfigError(f"{ENV_MAX_SHELVE}={text!r} is not a duration such as 8h or 30m")
    return span.total_seconds()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The connection flags every command shares."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--amqp-url",
        metavar="URL",
        action="append",
        help=f"RabbitMQ URL; repeat it (or separate by commas) for the nodes of a cluster "
        f"(env {ENV_AMQP_URL}, comma-separated; default {DEFAULT_AMQP_URL})",
    )
    group.add_argument(
        "--database-url",
        metavar="URL",
        help=f"PostgreSQL URL; for TLS add ?sslmode=verify-full&sslrootcert=CA.pem (env "
        f"{ENV_DATABASE_URL}, default {DEFAULT_DATABASE_URL})",
    )
    group.add_argument(
        "--amqp-ca-file",
        metavar="PEM",
        help=f"CA certificate(s) an amqps:// broker's certificate must chain to; its host name "
        f"is checked too (env {ENV_AMQP_CA_FILE}; default the system's trust store)",
    )
    group.add_argument(
        "--amqp-cert-file",
        metavar="PEM",
        help=f"client certificate for amqps:// (env {ENV_AMQP_CERT_FILE}; default none)",
    )
    group.add_argument(
        "--amqp-key-file",
        metavar="PEM",
        help=f"the client certificate's key (env {ENV_AMQP_KEY_FILE}; default in --amqp-cert-file)",
    )
    group.add_argument(
        "--amqp-url-file",
        metavar="PATH",
        help=f"a file (mode 0600) holding the RabbitMQ URL(s), as `broker init` writes them: "
        f"keeps the password out of argv (env {ENV_AMQP_URL_FILE}; wins over --amqp-url)",
    )
    group.add_argument(
        "--database-url-file",
        metavar="PATH",
        help=f"a file (mode 0600) holding the PostgreSQL URL (env {ENV_DATABASE_URL_FILE}; "
        "wins over --database-url)",
    )
    group.add_argument(
        "--plant",
        metavar="NAME",
        help=f"plant namespace: queue prefix and database schema (env {ENV_PLANT}, "
        f"default {DEFAULT_PLANT})",
    )
    group.add_argument(
        "--queue-type",
        choices=QUEUE_TYPES,
        help=f"type of the plant's durable queues (env {ENV_QUEUE_TYPE}; default quorum when "
        "several broker URLs are given, else classic); every process of a plant must agree",
    )


def add_history_argument(parser: argparse.ArgumentParser) -> None:
    """The control room's own: where it reads history from."""
    parser.add_argument(
        "--history-url",
        metavar="URL",
        help=f"PostgreSQL URL to read history from, e.g. a streaming standby (env "
        f"{ENV_HISTORY_URL}; default the --database-url)",
    )


def add_bell_argument(parser: argparse.ArgumentParser) -> None:
    """The control room's own: whether alarms ring the terminal's bell."""
    parser.add_argument(
        "--no-bell",
        dest="bell",
        action="store_false",
        default=None,
        help=f"never ring the terminal bell for alarms (env {ENV_BELL}=off; default on: a new "
        "unacknowledged high or critical alarm rings until acknowledged or silenced)",
    )


def bell_enabled(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> bool:
    """--no-bell, else CONTROLROOM_BELL (on/off), else on."""
    flag: bool | None = getattr(args, "bell", None)
    if flag is not None:
        return flag
    value = (os.environ if environ is None else environ).get(ENV_BELL, "").strip().lower()
    if not value:
        return True
    if value not in _SWITCH:
        raise ConfigError(f"{ENV_BELL}={value!r}: use on or off")
    return _SWITCH[value]


def read_url_file(path: str, what: str) -> str:
    """The URL a file holds; one line (ConfigError) if it is missing, unreadable, empty or
    readable by anyone but its owner."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise ConfigError(f"cannot read the {what} URL file {path}: {error.strerror}") from None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"the {what} URL file {path} is open to others (mode {mode:04o}): it holds a "
                f"password; make it 0600 (chmod 600 {path})"
            )
        with os.fdopen(fd, encoding="utf-8", closefd=False) as file:
            text = file.read()
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} URL file {path} is not text") from None
    except OSError as error:
        raise ConfigError(f"cannot read the {what} URL file {path}: {error.strerror}") from None
    finally:
        os.close(fd)
    urls = ",".join(line.strip() for line in text.splitlines() if line.strip())
    if not urls:
        raise ConfigError(f"the {what} URL file {path} is empty")
    return urls


def warn_about_argv_passwords(args: argparse.Namespace) -> None:
    """One warning line per URL flag that carries a password (never the password itself):
    every user of the machine can read a process's argv."""
    flags = {
        "--amqp-url": split_amqp_urls(getattr(args, "amqp_url", None) or []),
        "--database-url": [getattr(args, "database_url", None) or ""],
        "--history-url": [getattr(args, "history_url", None) or ""],
    }
    for flag, urls in flags.items():
        if any(_password(url) not in (None, *WELL_KNOWN_PASSWORDS) for url in urls if url):
            option = f"{flag}-file" if flag != "--history-url" else "a URL without a password"
            log.warning(
                "%s holds a password, which every user of this machine can read in the process "
                "list; use %s instead",
                flag,
                option,
            )


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def split_amqp_urls(values: Sequence[str]) -> tuple[str, ...]:
    """Every address in the values, each of which may hold several, comma-separated."""
    return tuple(url.strip() for value in values for url in value.split(",") if url.strip())


def check_plant_name(name: str) -> None:
    if not PLANT_NAME.fullmatch(name):
        raise ConfigError(
            f"plant name {name!r} is not usable: use 1-40 lowercase letters, digits or _, "
            "starting with a letter"
        )


def check_amqp_url(url: str) -> None:
    parts = _split(url, "broker")
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"broker URL {mask_url(url)!r} must start with amqp:// or amqps://")
    if not parts.hostname:
        raise ConfigError(f"broker URL {mask_url(url)!r} names no host")


def check_database_url(url: str) -> None:
    parts = _split(url, "database")
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"database URL {mask_url(url)!r} must start with postgresql://")
    mode, files = database_tls(url)
    if mode in VERIFIED_SSLMODES:
        files.check("database TLS")


def _split(url: str, what: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as error:
        raise ConfigError(f"{what} URL {mask_url(url)!r} is malformed: {error}") from None
    return parts


def mask_url(url: str) -> str:
    """The URL with its password replaced, fit for logs, errors and screens."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<malformed URL>"
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
