"""A source with a login of its own (`broker init --source NAME`): it runs and its readings are
stored; the shared sensor login may no longer speak for it (refused at start: exit 2, one
line); an operator's stop reaches it through the coordinator, under the operator's login; and
`--remove-source` takes the login away again. The broker's refusals, action by action, are
in tests/integration/test_roles.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import asyncpg

from controlroom.broker.feed import ViewerFeed
from controlroom.config import ENV_PLANT
from controlroom.roles import source_role
from tests.support import PlantRoles, Worker, wait_for

SOURCE = "pump"


def broker_init(roles: PlantRoles, *args: str) -> subprocess.CompletedProcess[str]:
    """`controlroom-worker broker init` as the administrator would run it."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "broker", "init", "--secrets-dir",
         str(roles.secrets.path), *args],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False,
        env=os.environ | roles.settings.as_env() | {ENV_PLANT: roles.settings.plant},
    )  # fmt: skip


async def test_a_source_with_its_own_login(
    roles: PlantRoles, start_worker: Callable[..., Worker], db: asyncpg.Connection
) -> None:
    plant = roles.settings.plant
    own = source_role(plant, SOURCE).name
    made = broker_init(roles, "--source", SOURCE)
    assert made.returncode == 0, made.stderr
    assert f"{own}: new password, {roles.secrets.amqp_file(own)}" in made.stdout
    assert "coordinator: kept its password" in made.stdout  # the rest as it was
    assert oct(roles.secrets.amqp_file(own).stat().st_mode & 0o777) == "0o600"

    start_worker("coordinator", env=roles.env("coordinator"))
    start_worker("datamanager", env=roles.env("datamanager"))
    shared = start_worker("sensor", "--name", SOURCE, env=roles.env("sensor"))
    assert await shared.wait(timeout=60) == 2, shared.log_text()
    refusals = [line for line in shared.log_text().splitlines() if "ACCESS_REFUSED" in line]
    assert len(refusals) == 1 and "Traceback" not in shared.log_text(), shared.log_text()

    sensor = start_worker("sensor", "--name", SOURCE, "--freq", "20", env=roles.env(own))

    async def stored() -> int:
        count: int = await db.fetchval(
            "SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id"
            " WHERE s.name = $1",
            SOURCE,
        )
        return count

    await wait_for(stored, what="the source's readings stored")

    ann = ViewerFeed(roles.of("ann"), "controlroom", lambda message: None)
    await ann.start()
    try:
        await ann.stop_sensor(SOURCE, "Ann the shift lead")  # a display name only
    finally:
        await ann.close()
    assert await sensor.wait(timeout=30) == 0, sensor.log_text()
    assert f"stop requested for {SOURCE} by ann (via {plant}.coordinator)" in sensor.log_text()

    removed = broker_init(roles, "--remove-source", SOURCE)
    assert removed.returncode == 0, removed.stderr
    assert f"{own}: removed" in removed.stdout
    assert not roles.secrets.amqp_file(own).exists()
    # The shared login speaks for the source again.
    again = start_worker("sensor", "--name", SOURCE, "--freq", "20", env=roles.env("sensor"))
    before = await stored()

    async def more() -> bool:
        return await stored() > before

    await wait_for(more, what="readings under the shared login")
    assert again.running()
