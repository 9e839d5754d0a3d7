"""Fixtures the control room's tests share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import Worker


@pytest.fixture
def pipeline(start_worker: Callable[..., Worker]) -> None:
    """A coordinator and a datamanager on the test's plant."""
    start_worker("coordinator")
    start_worker("datamanager")
