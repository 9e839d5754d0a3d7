"""What every worker does to live and die well: stop on SIGTERM/SIGINT, back off on errors."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import tenacity

from controlroom.waiting import within

T = TypeVar("T")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT, so a worker can finish its work and say goodbye."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        yield stopping
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


class Backoff:
    """Delays that grow from `first` to `most` while failures repeat, reset by a success."""

    def __init__(self, first: float = 0.2, most: float = 5.0) -> None:
        self.first = first
        self.most = most
        self.delay = first

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.most, self.delay * 2)
        return delay

    def reset(self) -> None:
        self.delay = self.first


async def wait_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if the stop event was set meanwhile."""
    try:
        await within(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def until_it_works(
    attempt: Callable[[], Awaitable[T]],
    *,
    on: tuple[type[Exception], ...],
    failing: Callable[[Exception], None],
    working_again: Callable[[], None],
    first: float = 0.2,
    most: float = 5.0,
) -> T:
    """Try `attempt` until it succeeds, waiting longer after each failure of a kind in `on`
    (from `first` to `most` seconds, with jitter, so many clients do not retry in step).

    An outage is two log lines, not one per retry: `failing` hears of the first failure only,
    `working_again` of the success that ends a run of failures. Anything else, a cancellation
    included, goes straight to the caller.
    """

    def first_failure(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if state.attempt_number == 1 and isinstance(error, Exception):
            failing(error)

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type(on),
        wait=tenacity.wait_exponential_jitter(multiplier=first, max=most, jitter=first),
        before_sleep=first_failure,
        reraise=True,
    )
    result: T = await retrying(attempt)
    if retrying.statistics.get("attempt_number", 1) > 1:
        working_again()
    return result
