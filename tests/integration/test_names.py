"""A running sensor's name is its own: a second process under that name is refused at start,
a crash frees the name, and a gateway holds its source's and (when few) its sensors' names."""

from __future__ import annotations

from collections.abc import Callable

import aio_pika

from controlroom.broker.claims import held_elsewhere
from controlroom.broker.topology import Topology
from controlroom.commandline import EXIT_USAGE
from controlroom.config import Settings
from controlroom.simulation import sensor
from controlroom.simulation.presets import REFERENCE_PLANT
from tests.support import Worker, until, wait_for
from workers.cli import build_parser
from workers.gateway import CLAIM_EACH_UP_TO

WALK = ["--min", "1", "--max", "2", "--step", "0.1", "--freq", "20"]


async def held(settings: Settings, *names: str) -> list[str]:
    """The names some running process holds (a passive look, which claims nothing)."""
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        return await held_elsewhere(connection, Topology(settings.plant), names)


async def wait_held(settings: Settings, *names: str) -> None:
    async def probe() -> bool:
        return await held(settings, *names) == list(names)

    await wait_for(probe, what=f"{', '.join(names)} claimed")


async def assert_refused(worker: Worker, settings: Settings, name: str) -> None:
    """Exit status 2 and one line that names the name; no traceback."""
    assert await worker.wait(timeout=30) == EXIT_USAGE, worker.log_text()
    text = worker.log_text()
    assert text.strip().splitlines()[-1] == (
        f"controlroom-worker {worker.args[0]}: error: the name {name!r} is taken: a sensor "
        f"or gateway of plant {settings.plant!r} that holds it is running"
    ), text
    assert "Traceback" not in text


async def test_a_second_sensor_under_a_running_name_is_refused(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    first = start_worker("sensor", "--name", "twin", *WALK)
    await wait_held(settings, "twin")
    second = start_worker("sensor", "--name", "twin", "--min", "100", "--max", "200")
    await assert_refused(second, settings, "twin")
    assert first.running(), "the running sensor is left alone"
    assert "publishing" not in second.log_text(), "the refused one never published"


async def test_a_crash_frees_the_name(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    first = start_worker("sensor", "--name", "phoenix", *WALK)
    await wait_held(settings, "phoenix")
    await first.killed()  # no goodbye, no clean close: the broker sees the connection die

    async def free() -> bool:
        return await held(settings, "phoenix") == []

    await wait_for(free, what="the name freed by the crash")
    again = start_worker("sensor", "--name", "phoenix", *WALK)
    await wait_held(settings, "phoenix")
    assert again.running(), again.log_text()


async def test_the_original_single_dash_flags_with_equals_signs(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    """`-name=value`, as the Go original took them: each flag means what it says, and the
    sensor runs under that name."""
    flags = ["-name=legacy", "-min=1.5", "-max=2.5", "-step=0.25", "-freq=20"]
    parser, _ = build_parser()
    parsed = sensor.from_args(parser.parse_args(["sensor", *flags]))
    assert (parsed.info.name, parsed.minimum, parsed.maximum, parsed.step, parsed.freq_hz) == (
        "legacy",
        1.5,
        2.5,
        0.25,
        20.0,
    )
    legacy = start_worker("sensor", *flags)
    await wait_held(settings, "legacy")
    await until(lambda: "publishing 1 sensors" in legacy.log_text(), "the sensor publishing")
    assert legacy.running(), legacy.log_text()


async def test_a_gateway_holds_its_source_and_its_sensors_names(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    start_worker("sensors", "--preset", "plant")
    names = [preset.info.name for preset in REFERENCE_PLANT]
    await wait_held(settings, "plant-gateway", *names)
    twin = start_worker("sensor", "--name", names[0], *WALK)
    await assert_refused(twin, settings, names[0])
    second = start_worker("sensors", "--preset", "plant")
    await assert_refused(second, settings, "plant-gateway")


async def test_a_large_gateway_holds_its_source_only(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    count = CLAIM_EACH_UP_TO + 1
    start_worker("sensors", "--count", str(count), "--prefix", "big", "--freq", "1")
    await wait_held(settings, "big-gateway")
    assert await held(settings, "big-001") == [], "its sensors' names are left unclaimed"
    second = start_worker("sensors", "--count", "2", "--prefix", "big", "--freq", "1")
    await assert_refused(second, settings, "big-gateway")
