"""The history policy's checks, spans as flags write them, and which partitions get made."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.clock import format_duration, parse_duration
from controlroom.db.partitions import (
    EPOCH,
    Partition,
    aligned,
    partition_name,
    planned,
    raw_series,
)
from controlroom.db.policy import HistoryPolicy
from controlroom.errors import ConfigError

HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "span"),
    [("90s", timedelta(seconds=90)), ("15m", 15 * timedelta(minutes=1)), ("30d", timedelta(30))],
)
def test_spans_read_and_write_back(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span
    assert parse_duration(format_duration(span)) == span


@pytest.mark.parametrize("text", ["", "d", "1.5d", "-1d", "3x", "7 days"])
def test_a_bad_span_is_none(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"partition_interval": timedelta(seconds=30)}, "at least 1 minute"),
        ({"partition_interval": timedelta(minutes=7)}, "divide a day"),
        ({"partition_interval": timedelta(hours=25)}, "divide a day"),
        ({"premake": timedelta(hours=1)}, "at least one partition interval ahead"),
        ({"partition_interval": timedelta(minutes=1), "premake": timedelta(days=1)}, "1000"),
        ({"raw_retention": timedelta(hours=2)}, "kept at least one partition interval"),
    ],
)
def test_an_unusable_policy_is_refused(changes: dict[str, timedelta], text: str) -> None:
    with pytest.raises(ConfigError, match=text):
        HistoryPolicy(**changes)  # type: ignore[arg-type]


def test_whole_days_and_divisors_of_a_day_are_usable() -> None:
    for interval in (timedelta(days=2), timedelta(hours=6), timedelta(minutes=15)):
        HistoryPolicy(partition_interval=interval, premake=interval * 3)


moments = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
intervals = st.sampled_from([timedelta(minutes=15), HOUR, timedelta(hours=6), timedelta(1)])


@given(moments, intervals, st.integers(1, 20), st.integers(-30, 30))
def test_planned_partitions_cover_now_to_the_premake_after_the_newest(
    now: datetime, interval: timedelta, ahead: int, newest_offset: int
) -> None:
    policy = HistoryPolicy(partition_interval=interval, premake=interval * ahead)
    newest = aligned(now, interval) + newest_offset * interval
    existing = [Partition(newest - interval, newest, partition_name(newest - interval))]
    wanted = planned(existing, raw_series(policy), now)
    if wanted:
        assert wanted[0].lower == max(newest, aligned(now, interval))
        assert wanted[-1].upper >= now + policy.premake > wanted[-1].lower  # type: ignore[operator]
    else:
        assert newest >= now + policy.premake
    for partition in wanted:
        assert partition.lower is not None
        assert (partition.lower - EPOCH) % interval == timedelta(0)
        assert partition.upper - partition.lower == interval
        assert partition.name == partition_name(partition.lower)
    assert all(a.upper == b.lower for a, b in itertools.pairwise(wanted))
    # Made, nothing more is planned.
    assert planned(existing + wanted, raw_series(policy), now) == []
