"""The page in headless Chromium (Debian's, driven by Playwright): charts, state, text-only names.

Playwright's own browser download cannot work here, so the tests use /usr/bin/chromium and skip,
saying why, when it is absent. Screenshots land in the test's output folder (test-output/bridge/).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from controlroom.broker.topology import SOURCES_KEY
from controlroom.clock import now_us
from controlroom.plant.alarm_limits import Level, Priority
from controlroom.plant.alarms import Comment, Hold, HoldKind
from controlroom.plant.numbers import format_number
from controlroom.plant.sensors import Condition, Liveness, SensorInfo
from controlroom.tui import ControlRoom
from controlroom.wire.codec import encode
from controlroom.wire.envelopes import SourceState, SourceStates
from devsupport import chromium
from devsupport.chromium import CHROMIUM
from devsupport.net import free_port
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import FakeCoordinator, sensor_state
from tests.support import PlantRoles, Worker, until, wait_for
from tests.tui.test_pilot import HOT_PROBE, SIZE, select
from workers.bridge.assets import WEB_ROOT
from workers.bridge.login import hash_password, write_users

XSS_NAME = "<img src=x onerror=alert(1)>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium "
        "(or set CONTROLROOM_CHROMIUM)",
    ),
]


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        browser = await chromium.launch(playwright)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            # A Playwright page that also keeps what the tests check it did.
            page: Any = await context.new_page()
            page.dialogs = []
            page.errors = []
            page.requests = []
            page.on("request", lambda request: page.requests.append(request.url))
            page.on("dialog", lambda dialog: _record_dialog(page, dialog))
            page.on("pageerror", lambda error: page.errors.append(str(error)))
            yield page
        finally:
            await browser.close()


async def _record_dialog(page: Any, dialog: Any) -> None:
    page.dialogs.append(dialog.message)
    await dialog.dismiss()


@contextlib.asynccontextmanager
async def ticking(coordinator: FakeCoordinator, names: list[str]) -> AsyncIterator[None]:
    """A plant at 10 Hz: one frame of fresh values for every sensor per tick."""

    async def tick() -> None:
        step = 0
        while True:
            step += 1
            await coordinator.readings(
                {n: 50 + 30 * ((step + i) % 7) / 7 for i, n in enumerate(names)}
            )
            await asyncio.sleep(0.1)  # the plant's period, not a synchronisation

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_js(page: Any, expression: str, what: str, timeout: float = 15.0) -> Any:
    async def probe() -> Any:
        return await page.evaluate(expression)

    return await wait_for(probe, timeout=timeout, what=what)


def need_canvasjs() -> None:
    if not (WEB_ROOT / "vendor" / "canvasjs.min.js").is_file():
        pytest.skip("CanvasJS is not fetched: run scripts/fetch-canvasjs")


async def test_page_draws_a_live_chart_per_sensor_and_names_stay_text(
    page: Any,
    coordinator: FakeCoordinator,
    start_bridge: StartBridge,
    output_dir: Path,
    tmp_path: Path,
) -> None:
    need_canvasjs()
    names = ["boiler_pressure", "turbine_speed", "coolant_temp", XSS_NAME]
    for name in names:
        await coordinator.announce(sensor_state(name))
    bridge = await start_bridge()
    await page.goto(bridge.url)
    origin = bridge.url.rstrip("/")
    async with ticking(coordinator, names):
        await wait_js(
            page, "document.querySelectorAll('.card canvas').length >= 4", "a chart per sensor"
        )
        cards = await page.locator(".card").count()
        assert cards == len(names)
        first_values = await page.eval_on_selector_all(
            ".card .value", "e => e.map(x => x.textContent)"
        )
        first_pixels = await page.evaluate(_CHART_PIXELS)
        values = "[...document.querySelectorAll('.card .value')].map(e => e.textContent)"
        await wait_js(
            page, f"JSON.stringify({values}) !== {_js_string(first_values)}", "the values to move"
        )
        await wait_for(
            lambda: _changed(page, first_pixels), timeout=15, what="the charts to redraw"
        )
        await coordinator.alarm(XSS_NAME, Condition.HIGH)
        await coordinator.status("coolant_temp", Liveness.STALE)
        await wait_js(page, "document.querySelectorAll('#alarm-list li').length === 1", "alarm")
        await wait_js(
            page, "document.querySelector('[data-state=\"STALE\"] .name') !== null", "STALE"
        )
        await page.screenshot(path=str(output_dir / "bridge-page.png"), full_page=True)
        shutil.copy(output_dir / "bridge-page.png", tmp_path / "bridge-page.png")

    # The hostile name is shown as itself, everywhere, and nothing ran.
    shown = await page.eval_on_selector_all(".card .name", "e => e.map(x => x.textContent)")
    assert XSS_NAME in shown
    alarm_text = await page.inner_text("#alarm-list")
    assert XSS_NAME in alarm_text
    assert await page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == []
    assert page.errors == []
    # Everything the page needs comes from the bridge: it works with no internet.
    assert page.requests and all(
        url.startswith((origin + "/", origin.replace("http", "ws", 1) + "/"))
        for url in page.requests
    ), page.requests
    # The control: a dialog that does open is caught, so the empty list above means something.
    await page.evaluate("setTimeout(() => alert('control'), 0)")
    await wait_for(lambda: _dialogs(page), timeout=5, what="the control dialog")
    assert page.dialogs == ["control"]
    assert await page.inner_text("#connection") == "live"
    states = await page.eval_on_selector_all(".card", "e => e.map(x => x.dataset.state)")
    assert sorted(states) == ["HIGH", "NORMAL", "NORMAL", "STALE"]


# The first canvas of a CanvasJS chart holds the plot (the second is an overlay).
_CHART_PIXELS = (
    "[...document.querySelectorAll('.card')].map(c => c.querySelector('canvas').toDataURL())"
)


async def _changed(page: Any, before: list[str]) -> bool:
    after = await page.evaluate(_CHART_PIXELS)
    return len(after) == len(before) and all(a != b for a, b in zip(after, before, strict=True))


def _js_string(values: list[str]) -> str:
    import json

    return json.dumps(json.dumps(values))


async def test_page_without_canvasjs_says_how_to_fetch_it(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    await coordinator.announce(sensor_state("lonely"))
    bridge = await start_bridge()
    await page.route("**/vendor/canvasjs.min.js", lambda route: route.fulfill(status=404, body=""))
    await page.goto(bridge.url)
    await wait_js(page, "!document.getElementById('notice').hidden", "the notice")
    assert "scripts/fetch-canvasjs" in await page.inner_text("#notice")
    await wait_js(page, "document.querySelectorAll('.card').length === 1", "the sensor's card")
    assert "CanvasJS is missing" in await page.inner_text(".card .chart")


async def test_page_reconnects_after_the_bridge_restarts(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    await coordinator.announce(sensor_state("steady"))
    port = free_port()
    bridge = await start_bridge("--port", str(port))
    await page.goto(bridge.url)
    await wait_js(page, "document.getElementById('connection').textContent === 'live'", "live")
    await wait_js(page, "document.querySelectorAll('.card').length === 1", "the card")
    await bridge.worker.stopped()
    await wait_js(
        page,
        "document.getElementById('connection').dataset.state === 'closed'",
        "the page to notice",
    )
    assert "retrying in" in await page.inner_text("#connection")
    await start_bridge("--port", str(port))
    await wait_js(
        page, "document.getElementById('connection').textContent === 'live'", "back live", 20
    )
    assert await page.locator(".card").count() == 1  # the same card, not a second one


async def _dialogs(page: Any) -> list[str]:
    return list(page.dialogs)


async def test_page_against_a_real_plant(
    page: Any, start_worker: Callable[..., Worker], start_bridge: StartBridge, output_dir: Path
) -> None:
    need_canvasjs()
    start_worker("coordinator")
    # (A sensor process cannot be named like XSS_NAME: AMQP queue names refuse those characters;
    # such a name can still reach viewers inside a gateway's frame, which the fake test covers.)
    names = ["feed_pump_flow", "condenser_vacuum"]
    for name in names:
        start_worker(
            "sensor",
            "--name", name,
            "--min", "0", "--max", "100", "--step", "5", "--freq", "10",
            "--safe-min", "20", "--safe-max", "80",
        )  # fmt: skip
    bridge = await start_bridge()
    await page.goto(bridge.url)
    await wait_js(
        page, "document.querySelectorAll('.card canvas').length >= 4", "two charts", timeout=30
    )
    before = await page.evaluate(_CHART_PIXELS)
    await wait_for(lambda: _changed(page, before), timeout=15, what="both charts to move")
    shown = await page.eval_on_selector_all(".card .name", "e => e.map(x => x.textContent)")
    assert sorted(shown) == sorted(names)
    assert await page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == [] and page.errors == []
    await page.screenshot(path=str(output_dir / "bridge-real-plant.png"), full_page=True)


async def test_page_shows_a_small_pressure_to_five_significant_digits(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge, output_dir: Path
) -> None:
    """condensor_pressure_out in MPa once read `0.001` on the page, its range `8.000e-4 … 0.002`;
    the page now writes numbers as the control room does (controlroom/plant/numbers.py)."""
    name = "condensor_pressure_out"
    info = SensorInfo(name, serial_no="MPR-317", unit="MPa", safe_min=8e-4, safe_max=0.002)
    await coordinator.announce(SourceState(info))
    bridge = await start_bridge()
    await page.goto(bridge.url)
    await wait_js(page, "document.querySelectorAll('.card').length === 1", "the card")
    value = "document.querySelector('.card .value').textContent"
    shown = format_number(0.0015126)
    assert shown == "0.0015126"
    await wait_for(
        lambda: _shows(page, coordinator, name, 0.0015126, value, shown),
        timeout=15,
        what="the reading on the card",
    )
    assert await page.inner_text(".card .safe") == f"{format_number(8e-4)} … {format_number(0.002)}"
    assert await page.inner_text(".card .safe") == "0.0008 … 0.002"
    card = page.locator(".card")
    await card.screenshot(path=str(output_dir / "condensor-pressure-card.png"))
    assert page.errors == []


async def _shows(
    page: Any, coordinator: FakeCoordinator, name: str, reading: float, js: str, text: str
) -> bool:
    """Send the reading (again: the page may have joined after the last one) and look."""
    await coordinator.readings({name: reading})
    return bool(await page.evaluate(js) == text)


# --- the page at plant scale ---------------------------------------------------------------

PLANT_SENSORS = 1000
LIVE_CHARTS = "window.controlroomStats.charts"
SHOWN_CARDS = (
    "[...document.querySelectorAll('.card')].filter(c => !c.hidden).map(c => c.dataset.sensor)"
)


async def _plant_of(coordinator: FakeCoordinator, count: int) -> list[str]:
    """`count` sensors announced as one gateway does: one SourceStates message."""
    names = [f"unit_{i:04}" for i in range(count)]
    states = [sensor_state(name) for name in names]
    coordinator.sources.update((state.sensor.name, state) for state in states)
    await coordinator.publish(SOURCES_KEY, encode(SourceStates(list(states))))
    return names


async def test_page_with_1000_sensors_draws_only_the_charts_on_screen(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge, output_dir: Path
) -> None:
    need_canvasjs()
    bridge = await start_bridge()
    await page.goto(bridge.url)
    names = await _plant_of(coordinator, PLANT_SENSORS)
    async with ticking(coordinator, names):
        await wait_js(
            page, f"document.querySelectorAll('.card').length === {PLANT_SENSORS}", "cards"
        )
        assert await page.locator(".cell").count() == PLANT_SENSORS
        await wait_js(page, f"{LIVE_CHARTS} > 0", "the charts on screen")
        on_screen = await page.evaluate(
            "[...document.querySelectorAll('.card')].filter(c => {"
            " const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight;"
            "}).length"
        )
        # The cards on screen and within the margin around it have charts; none of the rest.
        charts = await page.evaluate(LIVE_CHARTS)
        assert on_screen <= charts <= on_screen + 12, (on_screen, charts)
        assert (
            await page.evaluate("document.querySelectorAll('.card[data-chart] canvas').length") > 0
        )
        assert (
            await page.evaluate(
                "document.querySelectorAll('.card:not([data-chart]) canvas').length"
            )
            == 0
        )
        last = f".card[data-sensor='{names[-1]}']"
        assert await page.locator(f"{last} canvas").count() == 0
        # Every chart that exists gets drawn (1,000 sensors' readings must not starve them).
        await wait_js(
            page,
            "[...document.querySelectorAll('.card[data-chart]')].every(c => c.dataset.renders > 1)",
            "every live chart drawn with readings",
        )
        await page.screenshot(path=str(output_dir / "plant-top.png"))

        # Scrolled to the end: the last card gets its chart, the first ones lose theirs.
        await page.locator(last).scroll_into_view_if_needed()
        await wait_js(page, f"document.querySelector(\"{last}\").dataset.chart === 'live'", "chart")
        pixels = f'document.querySelector("{last} canvas")?.toDataURL()'
        drawn = await wait_js(page, pixels, "its canvas")

        async def moved() -> bool:
            return bool(await page.evaluate(pixels) != drawn)

        await wait_for(moved, timeout=15, what="its chart to be drawn and move")
        first = f".card[data-sensor='{names[0]}']"
        assert await page.locator(f"{first} canvas").count() == 0
        assert await page.evaluate(LIVE_CHARTS) <= on_screen + 12
        await page.screenshot(path=str(output_dir / "plant-end.png"))
    assert page.errors == []


async def test_page_filters_by_name_and_shows_only_what_is_abnormal(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge, output_dir: Path
) -> None:
    bridge = await start_bridge()
    await page.goto(bridge.url)
    names = await _plant_of(coordinator, PLANT_SENSORS)
    await wait_js(page, f"document.querySelectorAll('.card').length === {PLANT_SENSORS}", "cards")

    await page.fill("#filter", "UNIT_012")  # part of a name, any case
    expected = [n for n in names if "unit_012" in n]
    assert len(expected) == 10
    await wait_js(page, f"{SHOWN_CARDS}.length === {len(expected)}", "the filtered cards")
    assert await page.evaluate(SHOWN_CARDS) == expected
    assert await page.inner_text("#shown") == f"showing 10 of {PLANT_SENSORS} sensors"
    await page.screenshot(path=str(output_dir / "plant-filtered.png"))
    await page.fill("#filter", "no such sensor")
    await wait_js(page, f"{SHOWN_CARDS}.length === 0", "no card")
    assert await page.is_visible("#nothing-shown")
    await page.fill("#filter", "")
    await wait_js(page, f"{SHOWN_CARDS}.length === {PLANT_SENSORS}", "every card again")

    # Only what is abnormal: a silent sensor, an out-of-range one; then one more goes silent.
    await coordinator.status(names[7], Liveness.STALE)
    await coordinator.alarm(names[500], Condition.HIGH)
    await page.check("#abnormal-only")
    await wait_js(page, f"{SHOWN_CARDS}.length === 2", "the two abnormal cards")
    assert await page.evaluate(SHOWN_CARDS) == [names[7], names[500]]
    await coordinator.status(names[999], Liveness.OFFLINE)
    await wait_js(page, f"{SHOWN_CARDS}.length === 3", "a third, as it goes offline")

    # The overview says every sensor's state in symbols and words, not colour alone.
    cell = page.locator(".cell").nth(500)
    assert await cell.inner_text() == "▲"
    assert await cell.get_attribute("aria-label") == f"{names[500]}: HIGH"
    assert await page.locator(".cell").nth(7).inner_text() == "?"
    summary = await page.inner_text("#overview-summary")
    assert summary == f"✓ {PLANT_SENSORS - 3} NORMAL · ▲ 1 HIGH · ? 1 STALE · ✕ 1 OFFLINE"
    await page.screenshot(path=str(output_dir / "plant-abnormal.png"))

    # A cell leads to its card, even one the view left out.
    await page.locator(".cell").nth(3).click()
    await wait_js(page, f"{SHOWN_CARDS}.length === {PLANT_SENSORS}", "the view cleared")
    assert not await page.is_checked("#abnormal-only")
    await page.wait_for_function(
        f"(() => {{ const r = document.querySelector(\".card[data-sensor='{names[3]}']\")"
        ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()"
    )
    # The control: the abnormal view does hide normal sensors (the check above can fail).
    await page.check("#abnormal-only")
    await wait_js(page, f"{SHOWN_CARDS}.length === 3", "three again")
    assert page.errors == []


async def test_the_page_works_after_a_login(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge, tmp_path: Path
) -> None:
    """Off loopback: the page sends a browser without a session to the login form; after a
    login it is the usual live page, and the cookie never reaches its scripts."""
    users = tmp_path / "users"
    write_users(users, {"ann": hash_password("correct horse battery")})
    await coordinator.announce(sensor_state("after_login"))
    bridge = await start_bridge("--host", "0.0.0.0", "--users-file", str(users))
    url = bridge.url.replace("0.0.0.0", "127.0.0.1")
    first = await page.goto(url)
    assert first is not None and first.status == 401
    await page.wait_for_url("**/login")
    await page.fill("#user", "ann")
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await wait_js(page, "!document.getElementById('login-error').hidden", "the refusal")
    assert "Wrong user or password" in await page.inner_text("#login-error")
    await page.fill("#password", "correct horse battery")
    await page.click("button[type=submit]")
    await page.wait_for_url(url)
    await wait_js(page, "document.querySelectorAll('.card').length === 1", "the sensor's card")
    await wait_js(page, "document.getElementById('connection').textContent === 'live'", "live")
    assert await page.evaluate("document.cookie") == ""  # HttpOnly
    await wait_js(page, "!document.getElementById('logout').hidden", "the log-out link")
    await page.click("#logout")
    await page.wait_for_url("**/login")
    assert (await page.goto(url)) is not None  # the session is gone: back to the form
    await page.wait_for_url("**/login")


async def test_page_shows_priority_holds_returned_alarms_and_comments(
    page: Any, coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    """The alarm list by priority, in words; a returned-unacknowledged alarm stays listed; a
    shelved one says until when; comments are shown; the state word is no state pill (the
    page once gave it the card's class `state`, a green pill even for HIGH)."""
    for name in ("drum", "feed", "vent"):
        await coordinator.announce(sensor_state(name))
    bridge = await start_bridge()
    await page.goto(bridge.url)
    now = now_us()
    await coordinator.alarm("feed", Condition.LOW, priority=Priority.LOW, level=Level.L)
    await coordinator.alarm(
        "drum", Condition.HIGH, cleared=True, priority=Priority.CRITICAL, level=Level.HH,
        comments=[Comment(now, "ann", "relief valve checked")],
    )  # fmt: skip
    shelf = Hold("vent", Level.H, HoldKind.SHELVED, now, "ann", "maintenance", now + 3_600_000_000)
    await coordinator.alarm("vent", Condition.HIGH, level=Level.H, hold=shelf)
    await wait_js(page, "document.querySelectorAll('#alarm-list > li').length === 3", "alarms")
    items = await page.eval_on_selector_all(
        "#alarm-list > li", "e => e.map(x => [x.dataset.priority, x.dataset.state, x.innerText])"
    )
    assert [(priority, state) for priority, state, _ in items] == [
        ("critical", "returned to normal unacknowledged"),
        ("high", "shelved"),
        ("low", "active unacknowledged"),
    ]
    assert items[0][2].startswith("CRITICAL drum") and "ann: relief valve checked" in items[0][2]
    assert " until " in items[1][2] and "(maintenance)" in items[1][2]
    pills = await page.eval_on_selector_all(
        "#alarm-list .alarm-state",
        "e => e.map(x => [x.classList.contains('state'), getComputedStyle(x).backgroundColor])",
    )
    assert pills and all(not pill and colour == "rgba(0, 0, 0, 0)" for pill, colour in pills)
    assert page.errors == []


async def test_anns_acknowledgement_shows_as_ann_on_the_page(
    page: Any,
    roles: PlantRoles,
    start_worker: Callable[..., Worker],
    start_bridge: StartBridge,
    output_dir: Path,
    tmp_path: Path,
) -> None:
    """Must-hold 2 of least privilege, to the browser: the plant under its roles, the bridge
    as viewer; operator ann acknowledges from her control room (her login, a display name of
    her choosing), and the page names her as the broker vouched for her, not as she typed."""
    start_worker("coordinator", env=roles.env("coordinator"))
    start_worker("datamanager", env=roles.env("datamanager"))
    start_worker(*HOT_PROBE, env=roles.env("sensor"))
    bridge = await start_bridge(env=roles.env("viewer"))
    await page.goto(bridge.url)
    await wait_js(
        page, "document.querySelectorAll('#alarm-list li').length === 1", "the alarm on the page"
    )
    # not acknowledged yet: the page says so in words, and names nobody
    assert "active unacknowledged" in await page.inner_text("#alarm-list")
    assert await page.locator("#alarm-list .acked").count() == 0

    app = ControlRoom(roles.of("ann"), operator="Ann the shift lead", log_dir=tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        await until(
            lambda: any(a.sensor == "hot_probe" for a in app.alarm_panel.alarms),
            "the alarm in ann's control room",
        )
        await select(pilot, app, "hot_probe")
        await pilot.press("a")
        acked = await wait_js(
            page,
            "document.querySelector('#alarm-list .acked')?.textContent ?? null",
            "the page to show who acknowledged",
            timeout=30,
        )
        assert acked == " · acknowledged by ann"
        assert "Ann the shift lead" not in await page.inner_text("#alarm-list")
        alarm = app.model.alarms[app.alarm_panel.alarms[0].id]
        assert alarm.acked_by == "ann"  # and her own control room says the same
    await page.screenshot(path=str(output_dir / "acknowledged-by-ann.png"))
    assert page.errors == []
