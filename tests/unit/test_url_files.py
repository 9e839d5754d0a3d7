"""URL files: read when private, refused in one line otherwise; a password in argv warned of
without the password; the secrets files made private from their first byte."""

from __future__ import annotations

import argparse
import logging
import os
import re
import stat
from pathlib import Path

import pytest

from controlroom.broker.roles import permissions
from controlroom.config import (
    ENV_AMQP_URL_FILE,
    ENV_DATABASE_URL_FILE,
    Settings,
    add_arguments,
    warn_about_argv_passwords,
)
from controlroom.errors import ConfigError
from controlroom.roles import Role, SecretsDir, actor_of, operator, source_role, write_secret

PASSWORD = "S3cret-Pw"


def url_file(tmp_path: Path, text: str, mode: int = 0o600, name: str = "r.url") -> Path:
    path = tmp_path / name
    write_secret(path, text)
    path.chmod(mode)  # the test's own file, to make it wrong on purpose
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_a_private_file_gives_the_urls_and_its_path_to_children(tmp_path: Path) -> None:
    amqp = url_file(tmp_path, f"amqp://p.viewer:{PASSWORD}@a:5672/\namqp://p.viewer:x@b/\n")
    database = url_file(tmp_path, f"postgresql://p_viewer:{PASSWORD}@db/c\n", name="r.db.url")
    settings = Settings.from_env(
        {ENV_AMQP_URL_FILE: str(amqp), ENV_DATABASE_URL_FILE: str(database)}
    )
    assert settings.amqp_urls == (f"amqp://p.viewer:{PASSWORD}@a:5672/", "amqp://p.viewer:x@b/")
    assert settings.database_url.startswith("postgresql://p_viewer:")
    assert settings.amqp_user == "p.viewer"
    child = settings.as_env()
    assert child[ENV_AMQP_URL_FILE] == str(amqp)
    assert not any(PASSWORD in value for value in child.values())


def test_a_flag_wins_over_the_environment_and_a_file_over_a_url(tmp_path: Path) -> None:
    amqp = url_file(tmp_path, "amqp://file:pw@f/")
    env = {"CONTROLROOM_AMQP_URL": "amqp://env@e/"}
    assert (
        Settings.from_args(parse("--amqp-url-file", str(amqp)), env).amqp_url == "amqp://file:pw@f/"
    )
    assert (
        Settings.from_args(
            parse("--amqp-url", "amqp://flag@g/"), {ENV_AMQP_URL_FILE: str(amqp)}
        ).amqp_url
        == "amqp://flag@g/"
    )
    assert (
        Settings.from_args(parse(), {ENV_AMQP_URL_FILE: str(amqp)}).amqp_url == "amqp://file:pw@f/"
    )


@pytest.mark.parametrize(
    ("mode", "text", "expected"),
    [
        (0o644, "amqp://u:pw@h/", r"open to others \(mode 0644\).*chmod 600"),
        (0o640, "amqp://u:pw@h/", r"open to others \(mode 0640\)"),
        (0o600, "\n \n", "is empty"),
    ],
)
def test_a_bad_file_is_one_line(tmp_path: Path, mode: int, text: str, expected: str) -> None:
    path = url_file(tmp_path, text, mode)
    with pytest.raises(ConfigError, match=expected) as raised:
        Settings.from_env({ENV_AMQP_URL_FILE: str(path)})
    assert "pw" not in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the database URL file .*No such file"):
        Settings.from_env({ENV_DATABASE_URL_FILE: str(tmp_path / "nope")})


def test_a_password_in_argv_is_warned_of_once_without_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        warn_about_argv_passwords(parse("--amqp-url", f"amqp://u:{PASSWORD}@h/,amqp://u:x@i/"))
        warn_about_argv_passwords(parse("--amqp-url", "amqp://guest:guest@h/"))  # no secret
        warn_about_argv_passwords(parse("--database-url", "postgresql://u@db/x"))  # none
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and "--amqp-url-file" in lines[0], lines
    assert PASSWORD not in lines[0]


def test_secrets_are_private_from_the_start(tmp_path: Path) -> None:
    secrets = SecretsDir(tmp_path / "s")
    old = os.umask(0)  # even with a permissive umask
    try:
        secrets.write("coordinator", [f"amqp://p.coordinator:{PASSWORD}@h/"], "postgresql://x@d/c")
    finally:
        os.umask(old)
    for path in (secrets.amqp_file("coordinator"), secrets.database_file("coordinator")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.path.stat().st_mode) == 0o700
    assert secrets.password("coordinator") == PASSWORD


def test_the_actor_is_the_login_and_no_role_is_an_operator() -> None:
    assert actor_of("north.ann", "north") == "ann"
    assert actor_of("guest", "north") == "guest"
    assert actor_of("north.viewer", "north") is None
    assert actor_of("north.coordinator", "north") is None
    assert actor_of("north.sensor-boiler", "north") is None  # a source's own login
    assert actor_of(None, "north") is None
    with pytest.raises(ConfigError, match="not usable"):
        operator("north", "viewer")
    with pytest.raises(ConfigError, match="not usable"):
        operator("north", "Ann Smith")


@pytest.mark.parametrize(
    ("role", "name", "right", "allowed"),
    [
        ("sensor", "north.frames", "write", True),
        ("sensor", "north.persist", "write", False),
        ("sensor", "north.events", "write", False),
        ("sensor", "north.stops", "write", False),
        ("sensor", "north.stops", "read", True),
        ("sensor", "south.frames", "write", False),  # another plant's
        ("sensor-boiler", "north.readings.boiler", "read", True),
        ("sensor-boiler", "north.readings.pump", "read", False),
        ("sensor-boiler", "north.readings.boiler2", "configure", False),
        ("sensor-boiler", "north.frames", "write", True),
        ("sensor-boiler", "north.persist", "write", False),
        ("coordinator", "north.stops", "write", True),
        ("coordinator", "north.stops", "read", False),
        ("coordinator", "north.persist", "write", True),
        ("coordinator", "north.persist", "configure", False),
        ("viewer", "north.actions", "write", False),
        ("ann", "north.actions", "write", True),
        ("ann", "north.stops", "write", False),  # a stop is an action, passed on
        ("datamanager", "north.persist", "read", True),
        ("datamanager", "north.own.1f2e", "configure", False),
        ("viewer", "north.own.1f2e", "configure", True),
        ("viewer", "north.ownx", "configure", False),
        ("owner", "north.anything", "configure", True),
        ("owner", "amq.default", "write", False),
    ],
)
def test_each_role_regex_says_what_the_table_says(
    role: str, name: str, right: str, allowed: bool
) -> None:
    rights = permissions(Role("north", role))
    assert bool(re.search(getattr(rights, right), name)) is allowed


@pytest.mark.parametrize(
    ("role", "exchange", "key", "write", "read"),
    [
        ("sensor-boiler", "frames", "boiler", True, True),
        ("sensor-boiler", "frames", "boiler.x", False, False),
        ("sensor-boiler", "frames", "pump", False, False),
        ("sensor-boiler", "announcements", "boiler", True, False),
        ("sensor-boiler", "stops", "boiler", False, True),
        ("sensor-boiler", "stops", "pump", False, False),
        ("sensor", "frames", "pump", True, True),
        ("sensor", "frames", "boiler", False, False),  # boiler has a login of its own
        ("sensor", "frames", "boiler2", True, True),
        ("sensor", "frames", "g.w", False, False),
        ("sensor", "stops", "boiler", False, False),
        ("sensor", "stops", "pump", False, True),
    ],
)
def test_topic_permissions_hold_a_source_to_its_key(
    role: str, exchange: str, key: str, write: bool, read: bool
) -> None:
    rights = permissions(Role("north", role), own_logins={"boiler", "g.w"})
    (write_keys, read_keys) = next(
        (w, r) for name, w, r in rights.topics if name == f"north.{exchange}"
    )
    assert bool(re.search(write_keys, key)) is write
    assert bool(re.search(read_keys, key)) is read


def test_the_shared_login_loses_the_queues_of_sources_with_their_own() -> None:
    rights = permissions(Role("north", "sensor"), own_logins={"boiler"})
    assert not re.search(rights.configure, "north.readings.boiler")
    assert re.search(rights.configure, "north.readings.boilerx")
    assert re.search(rights.read, "north.readings.pump")


def test_a_source_login_needs_a_name_as_its_queue_has_it() -> None:
    assert source_role("north", "gw-1.a").name == "sensor-gw-1.a"
    for bad in ("weird <gateway>", ".hidden", "x.db", ""):
        with pytest.raises(ConfigError, match="cannot have a login of its own"):
            source_role("north", bad)
