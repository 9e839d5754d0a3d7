"""Passwords never appear in logs or errors: URLs are shown with the password masked.

A whole plant (supervisor, sensors, coordinator, datamanager, bridge) and the audit run with
broker and database URLs that carry a password, through their normal work and through the
errors that name a URL; then every byte they wrote is searched for the password.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from controlroom.config import Settings, mask_url
from controlroom.provision import remove_roles
from controlroom.roles import FIXED_ROLES, SecretsDir
from devsupport.net import free_port
from tests.conftest import TEST_AMQP_URL, TEST_DATABASE_URL
from tests.support import wait_for


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture
def broker_user() -> Iterator[tuple[str, str]]:
    """A RabbitMQ user with a password of its own, removed afterwards."""
    user = f"t_secret_{secrets.token_hex(4)}"
    password = f"Pw-{secrets.token_hex(8)}"
    subprocess.run(["rabbitmqctl", "add_user", user, password], check=True, capture_output=True)
    try:
        subprocess.run(
            ["rabbitmqctl", "set_permissions", user, ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        yield user, password
    finally:
        subprocess.run(["rabbitmqctl", "delete_user", user], capture_output=True)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def start_plant(
    log_dir: Path, sink: IO[bytes], env: dict[str, str], *args: str
) -> subprocess.Popen[bytes]:
    """The plant supervisor at DEBUG, its children's logs in log_dir."""
    command = ["--log-level", "DEBUG", "plant", "--log-dir", str(log_dir), *args]
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", *command, "--bridge-port", str(free_port())],
        stdout=sink,
        stderr=subprocess.STDOUT,
        env=os.environ | env,
    )


def process_list() -> list[str]:
    """Every process's command line, as any user of the machine can read it (`ps`)."""
    result = subprocess.run(
        ["ps", "-eo", "args", "--no-headers"], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_mask_url_hides_only_the_password() -> None:
    url = "amqp://operator:Hunter2%21@broker.example:5671/plant"
    assert mask_url(url) == "amqp://operator:***@broker.example:5671/plant"
    assert "Hunter2" not in Settings(amqp_urls=(url,)).amqp_display
    assert mask_url("amqp://broker.example/") == "amqp://broker.example/"
    assert "Hunter2" not in mask_url("amqp://u:Hunter2@[::1/")


async def test_no_password_in_logs_or_errors(
    settings: Settings, broker_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = broker_user
    db_password = f"DbPw-{secrets.token_hex(8)}"  # the test server trusts local connections
    amqp_url = with_credentials(TEST_AMQP_URL, user, password)
    database_url = with_credentials(TEST_DATABASE_URL, "postgres", db_password)
    secret_env = {
        "CONTROLROOM_AMQP_URL": amqp_url,
        "CONTROLROOM_DATABASE_URL": database_url,
        "CONTROLROOM_PLANT": settings.plant,
        "PYTHONUNBUFFERED": "1",
    }
    outputs: dict[str, str] = {}

    # Normal work: a whole plant, at DEBUG, until readings are stored; then the audit.
    # It runs with roles (the default): it makes them first, as `broker init` would.
    log_dir = tmp_path / "plant"
    plant_log = tmp_path / "plant.log"
    roles = SecretsDir(tmp_path / "secrets")
    argv: list[str] = []
    with plant_log.open("wb") as sink:
        plant = start_plant(log_dir, sink, secret_env, "--secrets-dir", str(roles.path))
        try:
            connection = await asyncpg.connect(TEST_DATABASE_URL)
            try:
                await connection.execute(f"SET search_path TO {settings.plant}")

                async def stored() -> int:
                    try:
                        count: int = await connection.fetchval(
                            "SELECT count(*) FROM sensor_reading"
                        )
                    except asyncpg.UndefinedTableError:
                        return 0
                    return count

                await wait_for(stored, timeout=60, what="the plant to store readings")
                argv = process_list()
            finally:
                await connection.close()
        finally:
            plant.send_signal(signal.SIGTERM)
            await asyncio.to_thread(plant.wait, 60)
            role_passwords = {
                role: roles.password(role) or "" for role in FIXED_ROLES if roles.has(role)
            }
            await remove_roles(settings, roles)
    outputs["plant"] = plant_log.read_text(errors="replace")
    for path in sorted(log_dir.glob("*.log")):
        outputs[path.name] = path.read_text(errors="replace")
    audit = await asyncio.to_thread(
        run_cli, "--log-level", "DEBUG", "audit", "--verbose", env=secret_env
    )
    outputs["audit"] = audit.stdout + audit.stderr
    assert audit.returncode in (0, 1), outputs["audit"]

    # Errors that name a URL: wrong password, unreachable broker and database, malformed URL.
    errors = {
        "wrong broker password": (
            ["sensor", "--name", "s9"],
            {"CONTROLROOM_AMQP_URL": with_credentials(TEST_AMQP_URL, user, password + "x")},
        ),
        "unreachable broker": (
            ["coordinator"],
            {"CONTROLROOM_AMQP_URL": f"amqp://{user}:{password}@127.0.0.1:1/"},
        ),
        "unreachable brokers": (
            ["sensors", "--count", "2"],
            {
                "CONTROLROOM_AMQP_URL": f"amqp://{user}:{password}@127.0.0.1:1/,"
                f"amqp://{user}:{password}@127.0.0.1:2/"
            },
        ),
        "unreachable database": (
            ["datamanager"],
            {"CONTROLROOM_DATABASE_URL": f"postgresql://postgres:{db_password}@127.0.0.1:1/x"},
        ),
        "malformed broker URL": (
            ["sensor", "--name", "s9"],
            {"CONTROLROOM_AMQP_URL": f"amqp://{user}:{password}@127.0.0.1:port/"},
        ),
        "malformed database URL": (
            ["audit"],
            {"CONTROLROOM_DATABASE_URL": f"postgresql://postgres:{db_password}@[::1/x"},
        ),
    }
    for name, (args, overrides) in errors.items():
        result = await asyncio.to_thread(run_cli, *args, env=secret_env | overrides)
        assert result.returncode == 2, f"{name}: {result.stderr}"
        assert "***" in result.stderr or "malformed" in result.stderr, f"{name}: {result.stderr}"
        outputs[name] = result.stdout + result.stderr

    # A URL with a password on the command line: one warning, without the password.
    argv_flag = await asyncio.to_thread(
        run_cli, "sensor", "--name", "s9", "--amqp-url", f"amqp://{user}:{password}@127.0.0.1:1/",
        env=secret_env,
    )  # fmt: skip
    warnings = [line for line in argv_flag.stderr.splitlines() if "holds a password" in line]
    assert len(warnings) == 1 and "--amqp-url-file" in warnings[0], argv_flag.stderr
    outputs["argv warning"] = argv_flag.stdout + argv_flag.stderr

    assert len(outputs) >= 5 + len(errors), sorted(outputs)
    assert sorted(role_passwords) == sorted(FIXED_ROLES) and all(role_passwords.values())
    assert any("workers.cli" in line for line in argv), "the plant's workers were listed"
    for role, role_password in role_passwords.items():
        assert not any(role_password in line for line in argv), f"{role}'s password in ps"
    for name, text in outputs.items():
        assert password not in text, f"the broker password leaked in {name}"
        assert db_password not in text, f"the database password leaked in {name}"
        for role, role_password in role_passwords.items():
            assert role_password not in text, f"{role}'s password leaked in {name}"
    assert any(f"{user}:***@" in text for text in outputs.values()), "URLs are shown, masked"
