"""The control room through outages: a TCP proxy between it and the broker or the database
is cut and restored on purpose; the header says what is gone and the UI recovers by itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from controlroom.config import Settings
from controlroom.tui import ControlRoom
from controlroom.tui.detail.detail_screen import DetailScreen
from tests.faults.proxy import Proxy
from tests.support import Worker, until


def through(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@127.0.0.1:{proxy.port}" if user else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def proxy_to() -> Iterator[Callable[[str, int], Proxy]]:
    proxies: list[Proxy] = []

    def start(host: str, port: int) -> Proxy:
        proxy = Proxy(host, port).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def live_sensor(start_worker: Callable[..., Worker]) -> str:
    start_worker("coordinator")
    start_worker(
        "sensor", "--name", "steady", "--min", "1", "--max", "2", "--step", "0.1", "--freq", "10"
    )  # fmt: skip
    return "steady"


async def test_broker_outage_is_shown_and_the_ui_reconnects(
    settings: Settings,
    live_sensor: str,
    proxy_to: Callable[[str, int], Proxy],
    tmp_path: Path,
) -> None:
    parts = urlsplit(settings.amqp_url)
    proxy = proxy_to(parts.hostname or "127.0.0.1", parts.port or 5672)
    app = ControlRoom(
        dataclasses.replace(settings, amqp_urls=(through(settings.amqp_url, proxy),)),
        log_dir=tmp_path,
    )
    async with app.run_test(size=(100, 30)):
        model = app.model
        await until(lambda: model.readings.total > 5, "live readings")
        await proxy.cut()
        await until(lambda: app.header.broker is False, "the header to say the broker is down")
        assert app.header.database is True
        proxy.restore()
        await until(lambda: app.header.broker is True, "the header to say the broker is back")
        after = model.readings.total
        await until(lambda: model.readings.total > after + 5, "live readings again")
        assert model.sensors[live_sensor].state == "NORMAL"


async def test_database_outage_history_says_so_and_live_data_goes_on(
    settings: Settings,
    live_sensor: str,
    proxy_to: Callable[[str, int], Proxy],
    tmp_path: Path,
) -> None:
    parts = urlsplit(settings.database_url)
    proxy = proxy_to(parts.hostname or "127.0.0.1", parts.port or 5432)
    app = ControlRoom(
        dataclasses.replace(settings, database_url=through(settings.database_url, proxy)),
        log_dir=tmp_path,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        model = app.model
        await until(lambda: app.header.database is True, "the database up")
        await until(lambda: live_sensor in model.sensors, "the live sensor")
        await proxy.cut()
        await until(lambda: app.header.database is False, "the header to say the database is down")
        names = [row.name for row in app.table.rows]
        app.table.cursor = names.index(live_sensor)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(lambda: screen.history_error is not None, "the history error")
        assert "history unavailable" in str(screen.history_error)
        before = model.readings.total
        await until(lambda: model.readings.total > before + 5, "live readings during the outage")
        await until(lambda: len(screen.chart_data().times) > 0, "live points on the chart")
        proxy.restore()
        await until(lambda: app.header.database is True, "the database back", timeout=15)
