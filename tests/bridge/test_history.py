"""The bridge's /history: each sensor's recent readings from PostgreSQL, so a page that opens
draws its charts from the start instead of empty; and the page does use it."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from controlroom.clock import datetime_to_us
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import PersistBatch
from devsupport import chromium
from devsupport.chromium import CHROMIUM
from tests.bridge.conftest import StartBridge
from tests.bridge.fakes import FakeCoordinator, sensor_state
from tests.support import wait_for

READINGS = 90  # one a second over the last minute and a half


async def store(db: asyncpg.Connection, name: str) -> list[tuple[int, float]]:
    writer = BatchWriter(db)
    await writer.prepare()
    start = datetime.now(UTC) - timedelta(seconds=READINGS + 5)
    times = [datetime_to_us(start + timedelta(seconds=n)) for n in range(READINGS)]
    values = [20.0 + n % 9 for n in range(READINGS)]
    seqs = list(range(1, READINGS + 1))
    frame = Frame("hgw", "hist-run", [name] * READINGS, seqs, times, values)
    await writer.write([PersistBatch(frames=[frame])])
    return [(t // 1000, v) for t, v in zip(times, values, strict=True)]


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, orjson.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


async def test_history_is_each_sensors_recent_readings_in_order(
    db: asyncpg.Connection, start_bridge: StartBridge
) -> None:
    stored = await store(db, "hist_probe")
    bridge = await start_bridge()
    status, document = await asyncio.to_thread(get, bridge.url + "history")
    assert status == 200
    assert [tuple(point) for point in document["sensors"]["hist_probe"]] == stored
    assert document["until_ms"] > stored[-1][0]
    assert set(document) == {"plant", "until_ms", "sensors"}


async def test_history_without_a_database_is_a_clear_503(start_bridge: StartBridge) -> None:
    bridge = await start_bridge("--database-url", "postgresql://nobody:secret@127.0.0.1:1/nowhere")
    status, document = await asyncio.to_thread(get, bridge.url + "history")
    assert status == 503
    assert document["error"].startswith("history unavailable: ")
    assert "secret" not in document["error"]


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}")
async def test_the_page_starts_its_charts_with_history(
    db: asyncpg.Connection, coordinator: FakeCoordinator, start_bridge: StartBridge
) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")

    stored = await store(db, "hist_probe")
    await coordinator.announce(sensor_state("hist_probe"))
    bridge = await start_bridge()
    async with playwright_api.async_playwright() as playwright:
        browser = await chromium.launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(bridge.url)

            async def seeded() -> int:
                # No live reading is sent: every point is from /history.
                return int(
                    await page.evaluate(
                        "(() => { const card = document.querySelector('.card');"
                        " return card && card.sensor ? card.sensor.xs.length : 0; })()"
                    )
                )

            assert await wait_for(seeded, what="the chart seeded from /history") == READINGS
            first = await page.evaluate(
                "(() => { const s = document.querySelector('.card').sensor;"
                " return [s.xs[0], s.ys[0]]; })()"
            )
            assert tuple(first) == stored[0]
        finally:
            await browser.close()
