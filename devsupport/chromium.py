"""Headless Chromium as the browser tests and the page benchmark launch it (Debian's build,
driven by Playwright: Playwright's own browser download cannot work here)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Playwright is imported only where a browser is launched
    from playwright.async_api import Browser, Playwright

CHROMIUM = os.environ.get("CONTROLROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


async def launch(playwright: Playwright, executable: str = CHROMIUM) -> Browser:
    return await playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS
    )
