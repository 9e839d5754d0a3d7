"""Waiting with a deadline, in a way that never swallows a cancellation.

`asyncio.wait_for` in Python 3.11 returns the awaitable's result when a cancellation of the
caller arrives just as the awaitable finishes, and the cancellation is lost (fixed in 3.12). A
coordinator's processing loop that waited for its inbox that way could miss the cancellation
that stops it and run on forever (seen once; the race is rare). `within` waits through
`asyncio.wait`, which never cancels the caller on its own, so the caller's cancellation always
propagates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """The awaitable's result, or TimeoutError after `seconds` (the awaitable is cancelled).

    If the caller is cancelled meanwhile, the awaitable is cancelled too and the caller's
    CancelledError propagates, even if the awaitable had just finished (a result it produced
    then is dropped: an item taken from a queue, say).
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise TimeoutError
    return task.result()
