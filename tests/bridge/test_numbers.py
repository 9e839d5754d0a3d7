"""The page's number format (web/numbers.js, run in headless Chromium) against the control
room's (controlroom/plant/numbers.py): the same text for every value, so an operator reads the
same digits in the TUI and in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controlroom.plant.numbers import MISSING, format_number
from devsupport.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.unit.test_numbers import CASES
from workers.bridge.assets import WEB_ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium "
        "(or set CONTROLROOM_CHROMIUM)",
    ),
]

# The values go in and come back out, so a test that lost precision on the way would say so.
FORMAT = "values => values.map(v => [v, window.controlroomNumbers.formatNumber(v)])"


@pytest.fixture(scope="module")
def numbers_page() -> Iterator[Any]:
    """A blank page with only numbers.js loaded (sync Playwright: one browser for the module,
    and hypothesis's examples each cost one evaluate)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.add_script_tag(path=str(WEB_ROOT / "numbers.js"))
            yield page
        finally:
            browser.close()


def in_browser(page: Any, values: list[float]) -> list[str]:
    pairs: list[tuple[float, str]] = page.evaluate(FORMAT, values)
    assert [float(value) for value, _ in pairs] == values  # big ones come back as int
    return [shown for _, shown in pairs]


def test_the_page_shows_what_the_control_room_shows(numbers_page: Any) -> None:
    values = [value for value, _ in CASES]
    assert in_browser(numbers_page, values) == [shown for _, shown in CASES]
    assert in_browser(numbers_page, values) == [format_number(value) for value in values]


def test_what_is_not_a_number_is_missing_on_both(numbers_page: Any) -> None:
    shown = numbers_page.evaluate(
        "[null, undefined, NaN, Infinity, -Infinity, '1.5']"
        ".map(window.controlroomNumbers.formatNumber)"
    )
    assert shown == [MISSING] * 6
    assert format_number(None) == MISSING


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),  # plant-sized numbers
            # exact ties at the sixth digit (n + 0.5) * 2^-k: where rounding rules part ways
            st.builds(
                lambda n, k: (n + 0.5) * 2.0**-k, st.integers(10_000, 99_999), st.integers(0, 12)
            ),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_the_two_agree_on_any_finite_number(numbers_page: Any, values: list[float]) -> None:
    assert in_browser(numbers_page, values) == [format_number(value) for value in values]
