"""A plant's roles: who may do what (docs/security.md), their logins and their secrets files.

Each process runs under one role, with its own broker user and database role, so the broker
and the database refuse what its job does not need. The rights themselves live beside what
they guard: `controlroom.broker.roles` (RabbitMQ permissions) and `controlroom.db.roles`
(GRANTs). Here: the roles' names, what a login is called, and where its URLs are kept.

Logins are named after the plant (`<plant>.<role>` on the broker, `<plant>_<role>` in
PostgreSQL): broker users are global to the node, not to a vhost, so two plants (or two tests)
on one broker need their own. An operator's login is `<plant>.<name>`; the broker puts that
login in every message's `user_id`, and `actor_of` turns it back into the name recorded.
A source may have a login of its own (`broker init --source NAME`: role `sensor-NAME`), which
may speak for that source only; the shared `sensor` login then may not speak for it.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from controlroom.config import ENV_SECRETS_DIR
from controlroom.errors import ConfigError

SENSOR = "sensor"
COORDINATOR = "coordinator"
DATAMANAGER = "datamanager"
VIEWER = "viewer"
OPERATOR = "operator"  # the kind; each operator's role is their own name
OWNER = "owner"
SOURCE = "source"  # the kind; each source's own login is the role `sensor-NAME`
SOURCE_PREFIX = "sensor-"

# The roles every plant has; operators come and go with `broker init --operator NAME`.
FIXED_ROLES = (SENSOR, COORDINATOR, DATAMANAGER, VIEWER, OWNER)

OPERATOR_NAME = re.compile(r"[a-z][a-z0-9_]{0,19}")
# A source with a login of its own is named as its readings queue and routing keys are, as is
# (`broker.topology.queue_token`), so its rights are plain regexes over those names.
SOURCE_NAME = re.compile(r"[A-Za-z0-9_:@,+-][A-Za-z0-9_.:@,+-]{0,63}")
PASSWORD_BYTES = 24
SECRET_MODE = 0o600


@dataclass(frozen=True, slots=True)
class Role:
    """One login of a plant: a fixed role, an operator (`kind` OPERATOR, `name` theirs), or a
    source's own (`kind` SOURCE, `name` `sensor-SOURCE`)."""

    plant: str
    name: str

    @property
    def kind(self) -> str:
        if self.name in FIXED_ROLES:
            return self.name
        return SOURCE if self.name.startswith(SOURCE_PREFIX) else OPERATOR

    @property
    def source(self) -> str:
        """The source a SOURCE role speaks for."""
        return self.name.removeprefix(SOURCE_PREFIX)

    @property
    def broker_user(self) -> str:
        return f"{self.plant}.{self.name}"

    @property
    def database_role(self) -> str:
        return f"{self.plant}_{self.name}"


def operator(plant: str, name: str) -> Role:
    """An operator's role; ConfigError for a name that is no usable login."""
    if not OPERATOR_NAME.fullmatch(name) or name in FIXED_ROLES:
        raise ConfigError(
            f"operator name {name!r} is not usable: use 1-20 lowercase letters, digits or _, "
            f"starting with a letter, and none of {', '.join(FIXED_ROLES)}"
        )
    return Role(plant, name)


def source_role(plant: str, source: str) -> Role:
    """A source's own login; ConfigError for a source name that cannot have one."""
    if not SOURCE_NAME.fullmatch(source) or source.endswith(".db"):  # .db: its URL files
        raise ConfigError(
            f"source name {source!r} cannot have a login of its own: use 1-64 letters, digits "
            "or _.:@,+- (not starting with a dot)"
        )
    return Role(plant, SOURCE_PREFIX + source)


def actor_of(user_id: str | None, plant: str) -> str | None:
    """The operator a broker-vouched login names (`<plant>.ann` -> `ann`; `guest` -> `guest`);
    None for none, or for a role of this plant that is no operator."""
    if not user_id:
        return None
    name = user_id.removeprefix(f"{plant}.")
    if name != user_id and Role(plant, name).kind != OPERATOR:
        return None
    return name


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def default_secrets_dir(plant: str) -> Path:
    """Where `broker init` writes and `controlroom up` reads a plant's URL files: under
    $CONTROLROOM_SECRETS_DIR if set, else /etc/controlroom for root (services), else the
    user's own config directory."""
    chosen = os.environ.get(ENV_SECRETS_DIR)
    if chosen:
        return Path(chosen) / plant
    if os.geteuid() == 0:
        return Path("/etc/controlroom") / plant
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "controlroom" / plant


@dataclass(frozen=True, slots=True)
class SecretsDir:
    """A plant's URL files: `ROLE.url` (AMQP) and `ROLE.db.url` (PostgreSQL), mode 0600."""

    path: Path

    def amqp_file(self, role: str) -> Path:
        return self.path / f"{role}.url"

    def database_file(self, role: str) -> Path:
        return self.path / f"{role}.db.url"

    def has(self, role: str) -> bool:
        return self.amqp_file(role).exists() and self.database_file(role).exists()

    def password(self, role: str) -> str | None:
        """The password a role's AMQP file holds (init keeps it on a second run), if any."""
        try:
            text = self.amqp_file(role).read_text(encoding="utf-8")
        except OSError:
            return None
        first = text.split(",")[0].strip()
        try:
            return urlsplit(first).password or None
        except ValueError:
            return None

    def write(self, role: str, amqp_urls: list[str], database_url: str) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret(self.amqp_file(role), "\n".join(amqp_urls) + "\n")
        write_secret(self.database_file(role), database_url + "\n")

    def remove(self, role: str) -> None:
        for path in (self.amqp_file(role), self.database_file(role)):
            path.unlink(missing_ok=True)


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner may read: made with mode 0600 (never chmod-ed after, so it
    is never readable by others for a moment), beside its place and renamed into it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def with_login(url: str, user: str, password: str) -> str:
    """The URL with this login in place of the one it has (user and password URL-quoted)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
