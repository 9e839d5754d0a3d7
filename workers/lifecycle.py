"""What every worker does to live and die well: stop on SIGTERM/SIGINT, back off on errors."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from controlroom.waiting import within


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
