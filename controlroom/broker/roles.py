"""What each role may do on the broker, and making its user there (`broker init`).

RabbitMQ grants per user and vhost three regexes over resource names (exchanges and queues
alike): *configure* (declare, delete), *write* (publish to an exchange; bind into a queue) and
*read* (consume from a queue; bind from an exchange), and per topic exchange a write and a read
regex over routing keys. What each operation needs, as the broker checks it:
- a process's own queue (`<plant>.own.<uuid>`: every viewer's, command and presence queue):
  configure, and read and write on it to consume and bind it. Such a queue is exclusive, so
  no other connection can use or delete it, whoever may name it.
- a queue with a dead-letter exchange: read on the queue and write on `<plant>.dead`.
- a passive declaration: nothing (a role checks a shared queue with it).
The shared exchanges and queues are made once, by `broker init` as owner
(`Topology.make_shared`); a role's process takes them as made (`Topology.premade`), so no role
but owner may configure them (configure is the right to delete).

Sources: frames, announcements and stops go through topic exchanges keyed by the source
(`Topology`), so a source's own login (`sensor-NAME`) is held by topic permissions to its own
key: it publishes only its frames and announcements, binds only its readings queue and hears
only its stops. The shared `sensor` login may speak for every source *without* a login of its
own: its regexes leave out those that have one (a negative lookahead: RabbitMQ's regexes are
Erlang's, PCRE). A topic exchange a user has no topic permission for is open to it, so every
role that may use one of these exchanges has its keys written out.

Limits, written down: a name claim (`claim.*`) is open to every source login, so a source may
hold a name another wants (a denial, never a forgery: a claim carries no data). Whoever may
declare a queue with a dead-letter exchange may publish to `dead`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from controlroom.errors import ConfigError
from controlroom.roles import (
    COORDINATOR,
    DATAMANAGER,
    OPERATOR,
    OWNER,
    SENSOR,
    SOURCE,
    VIEWER,
    Role,
)
from controlroom.waiting import within

log = logging.getLogger(__name__)

OWN_QUEUES = r"own\..+"
NOTHING = "^$"
RABBITMQCTL = "rabbitmqctl"
RABBITMQCTL_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Permissions:
    configure: str
    write: str
    read: str
    # (exchange, write, read) over routing keys, for the topic exchanges this role uses
    topics: tuple[tuple[str, str, str], ...] = ()


def _names(plant: str, *names: str, own: bool = True) -> str:
    """One regex: exactly these names of the plant (each itself a regex), and the process's
    own queues if it has them."""
    alternatives = "|".join((*names, OWN_QUEUES) if own else names)
    return f"^{re.escape(plant)}\\.({alternatives})$" if alternatives else NOTHING


def _any_but(names: Collection[str]) -> str:
    """A regex (unanchored) for any non-empty name but these: a negative lookahead."""
    if not names:
        return ".+"
    return f"(?!({'|'.join(re.escape(name) for name in sorted(names))})$).+"


def _source_rights(plant: str, key: str) -> Permissions:
    """What a source's login may do, `key` a regex (unanchored) of the sources it speaks for:
    publish their frames and announcements, make and use their readings queues, hear discovery
    and their stops."""
    keys = f"^{key}$"
    queues = rf"readings\.{key}"
    return Permissions(
        configure=_names(plant, queues, r"claim\..+"),
        write=_names(plant, "frames", queues, "announcements", "dead"),
        read=_names(plant, "frames", queues, "discovery", "stops"),
        topics=(
            (f"{plant}.frames", keys, keys),
            (f"{plant}.announcements", keys, NOTHING),
            (f"{plant}.stops", NOTHING, keys),
        ),
    )


def permissions(role: Role, own_logins: Collection[str] = ()) -> Permissions:
    """The least a role's processes need (docs/security.md has the table). `own_logins`: the
    sources with a login of their own, for which the shared sensor login may not speak."""
    plant, kind = role.plant, role.kind
    events = f"{plant}.events"
    readings_queues = r"readings\..+"
    if kind == SOURCE:
        return _source_rights(plant, re.escape(role.source))
    if kind == SENSOR:
        return _source_rights(plant, _any_but(own_logins))
    if kind == COORDINATOR:
        return Permissions(
            configure=_names(plant, readings_queues),
            write=_names(
                plant,
                readings_queues,
                "dead",
                "persist",
                "events",
                "discovery",
                "coordinators",
                "replies",
                "stops",  # an operator's stop, passed on to its source
            ),
            read=_names(
                plant,
                "frames",
                readings_queues,
                "announcements",
                "coordinators",
                "events",
                "requests",
            ),
            topics=((events, ".*", ".*"),),
        )
    if kind == DATAMANAGER:  # consume persist batches; what it refuses is dead-lettered
        return Permissions(
            configure=NOTHING, write=NOTHING, read=_names(plant, "persist", own=False)
        )
    if kind == VIEWER:  # hear events and ask for snapshots; change nothing
        return Permissions(
            configure=_names(plant),
            write=_names(plant, "requests"),
            read=_names(plant, "events", "replies"),
            topics=((events, NOTHING, ".*"),),
        )
    if kind == OPERATOR:  # a viewer who may also act: acknowledge, shelve, stop a sensor
        return Permissions(
            configure=_names(plant),
            write=_names(plant, "requests", "actions"),
            read=_names(plant, "events", "replies"),
            topics=((events, NOTHING, ".*"),),
        )
    if kind == OWNER:  # makes (and may remove) everything of the plant
        everything = f"^{re.escape(plant)}\\..*"
        return Permissions(everything, everything, everything, ((events, ".*", ".*"),))
    raise ConfigError(f"no such role: {role.name}")


class Rabbitmqctl:
    """Users and permissions through `rabbitmqctl` on the broker's own host (the management
    plugin is not needed). A password goes to the tool on its standard input, never in argv.

    `command` replaces `rabbitmqctl --node NODE` by another way to run it against the right
    node, with `env` its environment: a node of `scripts/cluster`, with its own Erlang cookie,
    is reached through the script (`LocalCluster.rabbitmqctl`)."""

    def __init__(
        self,
        vhost: str = "/",
        node: str | None = None,
        *,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.vhost = vhost
        self.node = node
        self.env = dict(env) if env is not None else None
        if command is not None:
            self.command: tuple[str, ...] = tuple(command)
            return
        executable = shutil.which(RABBITMQCTL) or shutil.which(
            RABBITMQCTL, path="/usr/sbin:/usr/local/sbin:/opt/rabbitmq/sbin"
        )
        if executable is None:
            raise ConfigError(
                "rabbitmqctl not found: run `broker init` on the broker's own host, as a user "
                "who may run rabbitmqctl (root or rabbitmq)"
            )
        self.command = (executable, *(("--node", node) if node else ()))

    def at(self, vhost: str) -> Rabbitmqctl:
        """The same tool for another vhost."""
        return Rabbitmqctl(vhost, self.node, command=self.command, env=self.env)

    async def users(self) -> set[str]:
        output = await self._run("list_users", "--quiet", "--no-table-headers")
        return {line.split("\t")[0] for line in output.splitlines() if line.strip()}

    async def ensure_user(self, user: str, password: str, *, exists: bool) -> None:
        """The user with this password (made, or its password set)."""
        if exists:
            await self._run("change_password", user, stdin=password)
        else:
            await self._run("add_user", user, stdin=password)

    async def delete_user(self, user: str) -> None:
        await self._run("delete_user", user)

    async def grant(self, user: str, rights: Permissions) -> None:
        await self._run(
            "set_permissions", "--vhost", self.vhost, user,
            rights.configure, rights.write, rights.read,
        )  # fmt: skip
        await self._run("clear_topic_permissions", "--vhost", self.vhost, user)
        for exchange, write, read in rights.topics:
            await self._run(
                "set_topic_permissions", "--vhost", self.vhost, user, exchange, write, read
            )

    async def _run(self, *args: str, stdin: str | None = None) -> str:
        process = await asyncio.create_subprocess_exec(
            *self.command,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        data = (stdin + "\n").encode() if stdin is not None else b""
        try:
            out, err = await within(process.communicate(data), RABBITMQCTL_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ConfigError(
                f"rabbitmqctl {args[0]} did not answer in {RABBITMQCTL_TIMEOUT_S:.0f} s"
            ) from None
        if process.returncode != 0:
            # its own words (they never hold the password: it was on stdin), first line only
            reason = next(
                (
                    line.strip()
                    for line in err.decode(errors="replace").splitlines()
                    if line.strip()
                ),
                f"exit status {process.returncode}",
            )
            raise ConfigError(f"rabbitmqctl {args[0]} failed: {reason}")
        return out.decode(errors="replace")


def broker_users(roles: Sequence[Role]) -> list[str]:
    return [role.broker_user for role in roles]
