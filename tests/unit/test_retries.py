"""Retries until it works: an outage is told once when it starts and once when it ends."""

from __future__ import annotations

import pytest

from workers.lifecycle import until_it_works


class Flaky:
    """Fails with OSError `failures` times, then answers how many tries it took."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0

    async def __call__(self) -> int:
        self.tries += 1
        if self.tries <= self.failures:
            raise OSError(f"down ({self.tries})")
        return self.tries


async def test_an_outage_is_two_lines_whatever_the_retries() -> None:
    said: list[str] = []
    flaky = Flaky(failures=4)
    tries = await until_it_works(
        flaky,
        on=(OSError,),
        failing=lambda error: said.append(f"failing: {error}"),
        working_again=lambda: said.append("working again"),
        first=0.001,
        most=0.01,
    )
    assert tries == 5
    assert said == ["failing: down (1)", "working again"]


async def test_success_at_once_says_nothing() -> None:
    said: list[object] = []
    assert await until_it_works(
        Flaky(failures=0), on=(OSError,), failing=said.append, working_again=lambda: said.append(1)
    )
    assert said == []


async def test_other_errors_are_not_retried() -> None:
    async def broken() -> None:
        raise ValueError("a bug, not an outage")

    said: list[object] = []
    with pytest.raises(ValueError, match="a bug"):
        await until_it_works(
            broken, on=(OSError,), failing=said.append, working_again=lambda: said.append(1)
        )
    assert said == []
