"""The browser protocol against a running bridge, fed by a fake coordinator on a real broker."""

from __future__ import annotations

from datetime import datetime, timedelta

from controlroom.broker.topology import SOURCES_KEY, STATUSES_KEY, warning_key
from controlroom.clock import now_us
from controlroom.plant.sensors import Condition, Liveness
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import SourceStates, StatusChange, StatusChanges, TwinWarning
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import Browser, FakeCoordinator, sensor_state

ORIGINAL_SOURCE_FIELDS = {"name", "serialNo", "unitType", "minSafeValue", "maxSafeValue"}


async def test_discover_sends_every_known_source_with_the_original_fields(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    coordinator.sources = {n: sensor_state(n) for n in ("boiler_pressure", "turbine_speed")}
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        sources = await browser.wait(
            lambda b: len(b.of("source")) == 2 and b.of("source"), "two sources"
        )
    by_name = {s["name"]: s for s in sources}
    assert set(by_name) == {"boiler_pressure", "turbine_speed"}
    first = by_name["boiler_pressure"]
    assert set(first) >= ORIGINAL_SOURCE_FIELDS
    assert first["serialNo"] == "SN-boiler_p"
    assert first["unitType"] == "°C"
    assert (first["minSafeValue"], first["maxSafeValue"]) == (10.0, 90.0)
    assert first["state"] == "NORMAL"


async def test_readings_carry_name_value_and_an_rfc3339_timestamp(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    await coordinator.announce(sensor_state("a"))
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        await browser.wait(lambda b: b.of("source"), "the source")
        await coordinator.readings({"a": 1.5, "b": -2.0})
        readings = await browser.wait(lambda b: len(b.of("reading")) >= 2 and b.of("reading"), "2")
    assert [(r["Name"], r["Value"]) for r in readings] == [("a", 1.5), ("b", -2.0)]
    for item in readings:
        assert set(item) == {"Name", "Value", "Timestamp"}
        stamp = datetime.fromisoformat(item["Timestamp"])
        assert stamp.utcoffset() == timedelta(0)
        assert item["Timestamp"].endswith("Z")


async def test_a_new_sensor_arrives_unasked_and_only_once(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser, Browser.open(bridge.ws_url) as idle:
        await browser.send({"type": "discover"})
        await coordinator.announce(sensor_state("newcomer"))
        await browser.wait(lambda b: b.of("source"), "the newcomer's source")
        await idle.wait(lambda b: b.of("source"), "the newcomer's source, though it never asked")
        # The same metadata again (e.g. a restart) is a state, not a second chart.
        await coordinator.announce(sensor_state("newcomer"))
        await coordinator.status("newcomer", Liveness.STALE)
        status = await browser.wait(lambda b: b.of("status"), "a status")
    assert [s["name"] for s in browser.of("source")] == ["newcomer"]
    assert status[-1] == status[-1] | {"name": "newcomer", "liveness": "STALE", "state": "STALE"}


async def test_alarms_and_state_reach_clients_and_discover(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    await coordinator.announce(sensor_state("pump"))
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        await browser.wait(lambda b: b.of("source"), "the source")
        raised = await coordinator.alarm("pump", Condition.HIGH)
        await browser.wait(lambda b: b.of("alarm"), "the alarm")
        await browser.wait(
            lambda b: any(s["state"] == "HIGH" for s in b.of("status")), "the HIGH state"
        )
    alarm = browser.of("alarm")[0]
    assert alarm | {"id": raised.id, "name": "pump", "kind": "HIGH", "active": True} == alarm

    # A client that connects later learns of the active alarm through discover.
    async with Browser.open(bridge.ws_url) as late:
        await late.send({"type": "discover"})
        await late.wait(lambda b: b.of("alarm") and b.of("source"), "alarm and source")
        assert late.of("source")[0]["state"] == "HIGH"
        await coordinator.alarm("pump", Condition.HIGH, cleared=True)
        await late.wait(lambda b: any(not a["active"] for a in b.of("alarm")), "the clearing")
        await late.wait(lambda b: any(s["state"] == "NORMAL" for s in b.of("status")), "NORMAL")


async def test_a_twin_warning_reaches_clients_and_discover(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    await coordinator.announce(sensor_state("pump"))
    bridge = await start_bridge()
    warning = TwinWarning("pump", ["big-gateway", "pump"], ["r1", "r2"], now_us())
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        await browser.wait(lambda b: b.of("source"), "the source")
        await coordinator.publish(warning_key("pump"), encode(warning))
        sent = (await browser.wait(lambda b: b.of("warning"), "the warning"))[0]
    assert sent | {"name": "pump", "kind": "twin_runs", "sources": ["big-gateway", "pump"]} == sent
    assert sent["message"] == warning.describe()
    async with Browser.open(bridge.ws_url) as late:
        await late.send({"type": "discover"})
        await late.wait(lambda b: b.of("warning"), "the warning, through discover")


async def test_batch_clients_get_readings_in_frames_others_one_per_message(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as batched, Browser.open(bridge.ws_url) as plain:
        await batched.send({"type": "hello", "data": {"batch": True}})
        await plain.send({"type": "discover"})
        await batched.wait(lambda b: b.of("hello"), "hello")
        # Frames are handled in order: the answer to a ping-like unknown frame means the
        # discover before it was handled too (there is no source to answer it with).
        await plain.send({"type": "sync"})
        await plain.wait(lambda b: b.of("error"), "the discover to be handled")
        await coordinator.readings({f"s{i}": float(i) for i in range(50)})
        await batched.wait(lambda b: len(b.readings()) == 50, "50 batched readings")
        await plain.wait(lambda b: len(b.of("reading")) == 50, "50 plain readings")
    assert len(batched.of("readings")) < 50
    assert batched.of("hello")[0]["batch"] is True
    assert batched.of("broker") == [{"connected": True}]


async def test_bridge_asks_the_coordinator_when_it_hears_of_an_unknown_sensor(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    bridge = await start_bridge()
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        # The coordinator knew this sensor before the bridge started, and says nothing new.
        coordinator.sources["old_timer"] = sensor_state("old_timer")
        await coordinator.readings({"old_timer": 3.0})
        sources = await browser.wait(lambda b: b.of("source"), "the snapshot's source", 10)
    assert sources[0]["name"] == "old_timer"
    assert coordinator.requests >= 2  # at start, then for the unknown sensor


async def test_batched_source_and_status_changes_reach_clients_one_by_one(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    """A gateway's announcement comes as one SourceStates message, its silence as one
    StatusChanges: the original protocol still gets a message per sensor."""
    bridge = await start_bridge()
    names = [f"g-{n}" for n in range(3)]
    async with Browser.open(bridge.ws_url) as browser:
        await browser.send({"type": "discover"})
        states = [sensor_state(name) for name in names]
        coordinator.sources.update((s.sensor.name, s) for s in states)
        await coordinator.publish(SOURCES_KEY, encode(SourceStates(list(states))))
        sources = await browser.wait(lambda b: len(b.of("source")) == 3 and b.of("source"), "3")
        changes = [StatusChange(name, Liveness.STALE, now_us()) for name in names[:2]]
        await coordinator.publish(STATUSES_KEY, encode(StatusChanges(changes)))
        statuses = await browser.wait(lambda b: len(b.of("status")) == 2 and b.of("status"), "2")
    assert [s["name"] for s in sources] == names
    assert [(s["name"], s["state"]) for s in statuses] == [("g-0", "STALE"), ("g-1", "STALE")]


async def test_fast_readings_are_folded_and_a_spike_shows_in_min_and_max(
    coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    """Readings faster than --max-rate-per-sensor reach every client, the original protocol's
    included, folded: at most that rate per sensor, the latest value, and the min and max of
    what was folded, so a one-reading spike is never hidden; Counts add up to what was sent."""
    await coordinator.announce(sensor_state("fast"))
    bridge = await start_bridge("--max-rate-per-sensor", "2")
    async with Browser.open(bridge.ws_url) as plain, Browser.open(bridge.ws_url) as batched:
        await batched.send({"type": "hello", "data": {"batch": True}})
        await plain.send({"type": "discover"})
        await plain.wait(lambda b: b.of("source"), "the source")
        await batched.wait(lambda b: b.of("hello"), "hello")
        values = [50.0] * 40
        values[17] = 1e6  # one reading far out of range
        values[-1] = 42.0
        for value in values:  # as fast as the broker takes them: far faster than 2 Hz
            await coordinator.readings({"fast": value})

        def accounted(browser: Browser) -> int:
            return sum(r.get("Count", 1) for r in browser.readings())

        for browser in (plain, batched):
            await browser.wait(lambda b: accounted(b) == len(values), "every reading accounted")
            got = browser.readings()
            assert len(got) < len(values) / 4, got  # folded
            assert got[-1]["Value"] == 42.0  # the latest wins
            assert max(r.get("Max", r["Value"]) for r in got) == 1e6
            assert min(r.get("Min", r["Value"]) for r in got) == 42.0
            stamps = [datetime.fromisoformat(r["Timestamp"]) for r in got]
            assert stamps == sorted(stamps)
        assert all(set(r) <= {"Name", "Value", "Timestamp", "Min", "Max", "Count"} for r in got)
