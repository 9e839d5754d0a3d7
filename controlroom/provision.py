"""`broker init`: a plant's roles made on the broker and in the database, their URL files
written. Idempotent: a second run keeps every password (read back from its file) unless told
to rotate it, and gives every role its rights again (after a migration, say).

It runs with administrator credentials: the settings' broker URL is only where the role URLs
point (users are made by `rabbitmqctl` on this host), and the database URL must be allowed to
create roles (the superuser, on a fresh machine). Passwords go from `secrets` to rabbitmqctl's
standard input, to PostgreSQL as a SCRAM verifier, and into files of mode 0600; never to argv,
a log or the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from controlroom.broker.connection import connect as connect_broker
from controlroom.broker.roles import Rabbitmqctl, permissions
from controlroom.broker.topology import Topology
from controlroom.config import Settings
from controlroom.db import connect as connect_database
from controlroom.db import ensure_database, migrate
from controlroom.db.roles import drop_role, ensure_role, grant
from controlroom.errors import ConfigError, DatabaseUnavailable, describe
from controlroom.roles import (
    FIXED_ROLES,
    OPERATOR_NAME,
    OWNER,
    SENSOR,
    SOURCE,
    Role,
    SecretsDir,
    default_secrets_dir,
    new_password,
    operator,
    source_role,
    with_login,
)

log = logging.getLogger(__name__)

RABBITMQCTL_AT_ONCE = 3


@dataclass(frozen=True, slots=True)
class Plan:
    secrets: SecretsDir
    add_operators: tuple[str, ...] = ()
    remove_operators: tuple[str, ...] = ()
    # Sources with a login of their own (`sensor-NAME`), which the shared sensor login loses.
    add_sources: tuple[str, ...] = ()
    remove_sources: tuple[str, ...] = ()
    rotate: frozenset[str] = frozenset()
    node: str | None = None
    # Another way to reach the broker's rabbitmqctl (a node of scripts/cluster); else `node`.
    rabbitmqctl: Rabbitmqctl | None = None

    def tool(self, settings: Settings) -> Rabbitmqctl:
        vhost = vhost_of(settings.amqp_url)
        return self.rabbitmqctl.at(vhost) if self.rabbitmqctl else Rabbitmqctl(vhost, self.node)


@dataclass(slots=True)
class Outcome:
    made: list[str] = field(default_factory=list)  # roles with a new password
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def lines(self, secrets: SecretsDir) -> list[str]:
        lines = [f"{role}: new password, {secrets.amqp_file(role)}" for role in self.made]
        lines += [f"{role}: kept its password, {secrets.amqp_file(role)}" for role in self.kept]
        lines += [f"{role}: removed" for role in self.removed]
        return lines


def vhost_of(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _known_roles(plant: str, secrets: SecretsDir, users: set[str]) -> set[str]:
    """The role names made before: a broker user `<plant>.NAME`, or a URL file."""
    names = {user.removeprefix(f"{plant}.") for user in users if user.startswith(f"{plant}.")}
    if secrets.path.is_dir():
        files = {path.name.removesuffix(".url") for path in secrets.path.glob("*.url")}
        names |= {name.removesuffix(".db") for name in files}
    return names - set(FIXED_ROLES)


def known_operators(plant: str, secrets: SecretsDir, users: set[str]) -> set[str]:
    """Operators made before (a role of no fixed name that is no source's)."""
    return {name for name in _known_roles(plant, secrets, users) if OPERATOR_NAME.fullmatch(name)}


def known_sources(plant: str, secrets: SecretsDir, users: set[str]) -> set[str]:
    """Sources given a login of their own before (role `sensor-NAME`)."""
    roles = _known_roles(plant, secrets, users)
    return {Role(plant, name).source for name in roles if Role(plant, name).kind == SOURCE}


def role_settings(settings: Settings, secrets: SecretsDir, role: str) -> Settings:
    """These settings as the role connects: its URL files."""
    return Settings.from_env(
        settings.as_env()
        | {
            "CONTROLROOM_AMQP_URL_FILE": str(secrets.amqp_file(role)),
            "CONTROLROOM_DATABASE_URL_FILE": str(secrets.database_file(role)),
        }
    )


def source_settings(settings: Settings, secrets: SecretsDir, source: str | None) -> Settings:
    """These settings as a source connects: its own login when it has one (`broker init
    --source`), else the shared sensor login (also for a process that starts several sources,
    `source` None)."""
    if source is not None:
        with contextlib.suppress(ConfigError):  # a name that cannot have a login has none
            own = source_role(settings.plant, source).name
            if secrets.amqp_file(own).exists():
                return role_settings(settings, secrets, own)
    return role_settings(settings, secrets, SENSOR)


async def init_roles(settings: Settings, plan: Plan) -> Outcome:
    tool = plan.tool(settings)
    users = await tool.users()
    operators = known_operators(settings.plant, plan.secrets, users) | set(plan.add_operators)
    for name in plan.remove_operators:
        operator(settings.plant, name)  # a usable name, or one line
    operators -= set(plan.remove_operators)
    sources = known_sources(settings.plant, plan.secrets, users) | set(plan.add_sources)
    gone_sources = [source_role(settings.plant, name) for name in plan.remove_sources]
    sources -= set(plan.remove_sources)
    roles = [Role(settings.plant, name) for name in FIXED_ROLES]
    roles += [operator(settings.plant, name) for name in sorted(operators)]
    roles += [source_role(settings.plant, name) for name in sorted(sources)]
    unknown = plan.rotate - {role.name for role in roles}
    if unknown:
        raise ConfigError(
            f"--rotate {', '.join(sorted(unknown))}: no such role or operator (roles: "
            f"{', '.join(role.name for role in roles)})"
        )
    outcome = Outcome()
    await ensure_database(settings)
    await migrate(settings)
    passwords: dict[str, tuple[str, bool]] = {}  # role -> (password, new)
    for role in roles:
        kept = None if role.name in plan.rotate else plan.secrets.password(role.name)
        passwords[role.name] = (kept or new_password(), kept is None)

    async def on_broker(role: Role) -> None:
        async with calls:  # each call starts an Erlang VM: a few at once, not all
            await tool.ensure_user(
                role.broker_user, passwords[role.name][0], exists=role.broker_user in users
            )
            await tool.grant(role.broker_user, permissions(role, sources))

    calls = asyncio.Semaphore(RABBITMQCTL_AT_ONCE)
    try:
        async with asyncio.TaskGroup() as tasks:
            for role in roles:
                tasks.create_task(on_broker(role))
    except* ConfigError as failed:  # one line, as ever (a run again finishes the job)
        raise failed.exceptions[0] from None
    database = await connect_database(settings)
    try:
        for role in roles:
            password, fresh = passwords[role.name]
            await ensure_role(database, role.database_role, password)
            await grant(database, role)
            plan.secrets.write(
                role.name,
                [with_login(url, role.broker_user, password) for url in settings.amqp_urls],
                with_login(settings.database_url, role.database_role, password),
            )
            (outcome.made if fresh else outcome.kept).append(role.name)
        for gone in [Role(settings.plant, name) for name in plan.remove_operators] + gone_sources:
            existed = gone.broker_user in users or plan.secrets.amqp_file(gone.name).exists()
            if gone.broker_user in users:
                await tool.delete_user(gone.broker_user)
            await drop_role(database, gone.database_role)
            plan.secrets.remove(gone.name)
            if existed:
                outcome.removed.append(gone.name)
    finally:
        await database.close()
    await make_topology(role_settings(settings, plan.secrets, OWNER))
    return outcome


async def make_topology(owner: Settings) -> None:
    """The shared exchanges and queues, declared as owner (a role may take them as made)."""
    connection = await connect_broker(owner, "broker init")
    async with connection:
        channel = await connection.channel()
        await Topology(owner.plant, owner.durable_queue_type).make_shared(channel)


async def remove_roles(
    settings: Settings, secrets: SecretsDir, rabbitmqctl: Rabbitmqctl | None = None
) -> list[str]:
    """Every role of the plant gone from the broker and the database, its files removed
    (tests and the bench clean up with this; users are global to the broker)."""
    tool = Plan(secrets, rabbitmqctl=rabbitmqctl).tool(settings)
    users = await tool.users()
    roles = [Role(settings.plant, name) for name in _every_role(settings.plant, secrets, users)]
    database = await connect_database(settings, schema=False)
    try:
        for role in reversed(roles):  # operators (members of viewer) first
            if role.broker_user in users:
                await tool.delete_user(role.broker_user)
            await drop_role(database, role.database_role)
            secrets.remove(role.name)
    finally:
        await database.close()
    return [role.name for role in roles]


def _every_role(plant: str, secrets: SecretsDir, users: set[str]) -> list[str]:
    """The fixed roles, then every operator and source login made before."""
    operators = sorted(known_operators(plant, secrets, users))
    sources = [
        source_role(plant, name).name for name in sorted(known_sources(plant, secrets, users))
    ]
    return [*FIXED_ROLES, *operators, *sources]


def secrets_dir(path: str | None, plant: str) -> SecretsDir:
    """The plant's secrets directory: as given, else the default (`default_secrets_dir`)."""
    return SecretsDir(Path(path) if path else default_secrets_dir(plant))


async def ensure_roles(
    settings: Settings, secrets: SecretsDir, operators: tuple[str, ...] = ()
) -> None:
    """The roles' URL files, made by `broker init` if any is missing; else the schema migrated
    as owner and every role's grants given again (a migration may have added tables; a plant
    migrated by the superuser is handed back to its owner)."""
    if not all(secrets.has(role) for role in (*FIXED_ROLES, *operators)):
        log.info("making the plant's roles (broker init) into %s", secrets.path)
        await init_roles(settings, Plan(secrets, add_operators=operators))
        return
    await migrate(role_settings(settings, secrets, OWNER))
    try:
        database = await connect_database(settings)
    except DatabaseUnavailable as error:
        log.warning("could not give the roles their grants again: %s", error)
        return
    try:
        for name in _every_role(settings.plant, secrets, set()):
            await grant(database, Role(settings.plant, name))
    except asyncpg.PostgresError as error:
        log.warning("could not give the roles their grants again: %s", describe(error))
    finally:
        await database.close()
