"""The browser protocol against a real plant: coordinator and sensor processes, no fakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import Browser
from tests.support import Worker

ORIGINAL_SOURCE_FIELDS = {"name", "serialNo", "unitType", "minSafeValue", "maxSafeValue"}


def sensor(start_worker: Callable[..., Worker], name: str, unit: str) -> Worker:
    return start_worker(
        "sensor",
        "--name", name,
        "--min", "1", "--max", "5", "--step", "0.2", "--freq", "10",
        "--unit", unit, "--serial", f"SN-{name}",
        "--safe-min", "1.5", "--safe-max", "4.5",
    )  # fmt: skip


FOLDED_FIELDS = {"Name", "Value", "Timestamp", "Min", "Max", "Count"}


async def test_real_plant_discover_readings_and_a_newcomer(
    start_worker: Callable[..., Worker], start_bridge: StartBridge
) -> None:
    start_worker("coordinator")
    sensor(start_worker, "boiler_pressure", "MPa")
    sensor(start_worker, "turbine_speed", "rpm")
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        sources = await browser.wait(
            lambda b: len({s["name"] for s in b.of("source")}) == 2 and b.of("source"),
            "a source per sensor",
            timeout=30,
        )
        by_name = {s["name"]: s for s in sources}
        assert set(by_name) == {"boiler_pressure", "turbine_speed"}
        for name, unit in (("boiler_pressure", "MPa"), ("turbine_speed", "rpm")):
            source = by_name[name]
            assert set(source) >= ORIGINAL_SOURCE_FIELDS
            assert (source["serialNo"], source["unitType"]) == (f"SN-{name}", unit)
            assert (source["minSafeValue"], source["maxSafeValue"]) == (1.5, 4.5)

        readings = await browser.wait(
            lambda b: {r["Name"] for r in b.of("reading")} == set(by_name) and b.of("reading"),
            "readings from both sensors",
        )
        for item in readings:
            # The original fields; Min, Max and Count too when the bridge folded several.
            assert {"Name", "Value", "Timestamp"} <= set(item) <= FOLDED_FIELDS
            assert 1 <= item.get("Min", item["Value"]) <= item["Value"] <= 5
            assert item["Value"] <= item.get("Max", item["Value"]) <= 5
            assert datetime.fromisoformat(item["Timestamp"]).utcoffset() == timedelta(0)

        sensor(start_worker, "coolant_temp", "°C")
        newcomer = await browser.wait(
            lambda b: [s for s in b.of("source") if s["name"] == "coolant_temp"],
            "the newcomer's source, unasked",
            timeout=30,
        )
        assert newcomer[0]["unitType"] == "°C"
        await browser.wait(
            lambda b: any(r["Name"] == "coolant_temp" for r in b.of("reading")),
            "the newcomer's readings",
        )
    # Each sensor was announced to this client once: the original client draws a chart per source.
    names = [s["name"] for s in browser.of("source")]
    assert sorted(names) == ["boiler_pressure", "coolant_temp", "turbine_speed"]
