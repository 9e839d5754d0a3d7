"""Waiting with a deadline: results, timeouts, and a cancellation that is never swallowed."""

from __future__ import annotations

import asyncio

import pytest

from controlroom.waiting import within


async def test_the_result_comes_back_in_time() -> None:
    assert await within(asyncio.sleep(0, result=7), 1.0) == 7


async def test_a_late_awaitable_times_out_and_is_cancelled() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    getter = asyncio.ensure_future(queue.get())
    with pytest.raises(TimeoutError):
        await within(getter, 0.01)
    await asyncio.sleep(0)
    assert getter.cancelled()
    queue.put_nowait(1)  # nothing was taken by the cancelled getter
    assert queue.get_nowait() == 1


async def test_a_cancellation_that_arrives_with_the_result_is_not_swallowed() -> None:
    """The race asyncio.wait_for loses on Python 3.11: the awaited thing finishes and the
    caller is cancelled in the same turn of the loop."""
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    caller = asyncio.create_task(within(finished, 10.0))
    await asyncio.sleep(0)  # the caller is now waiting
    finished.set_result(1)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert caller.cancelled()
