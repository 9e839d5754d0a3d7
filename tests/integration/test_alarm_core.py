"""The alarm core against the real services: a limit change in force in two running
coordinators within a second (must-hold 3), a shelving that ends by itself while the
coordinator that shelved it is gone, an on-delay that suppresses a short excursion (must-hold
1), and shelving, comments and acknowledgements that outlive every process and that a new
control room sees at once (must-hold 4)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg

from controlroom.broker.feed import ViewerFeed
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority
from controlroom.plant.alarm_states import AlarmState, state_of
from controlroom.plant.alarms import Alarm, HoldKind
from controlroom.plant.picture import PlantPicture
from controlroom.wire.codec import Message
from controlroom.wire.envelopes import Snapshot
from tests.support import Worker, until, wait_for

HOT = ["--min", "10", "--max", "11", "--step", "0.5", "--freq", "20"]
BACK = ["--min", "0", "--max", "1", "--step", "0.5", "--freq", "20"]
OPERATOR = "ann"  # a display name; who acted is the broker login (user_id)
ACTOR = "guest"

ALARMS = """
SELECT a.id, a.level, a.priority, a.cleared_at IS NULL AS active, a.acked_by, a.hold_kind,
       a.hold_until, a.open, floor(extract(epoch FROM a.raised_at) * 1e6)::bigint AS raised_us
FROM alarm a JOIN sensor s ON s.id = a.sensor_id WHERE s.name = $1 ORDER BY a.raised_at
"""
STORED_SINCE = """
SELECT count(*) FROM sensor_reading r JOIN sensor s ON s.id = r.sensor_id
WHERE s.name = $1 AND r.taken_on > timestamptz 'epoch' + $2::int8 * interval '1 microsecond'
"""
FIRST_STORED_SINCE = """
SELECT floor(extract(epoch FROM min(r.taken_on)) * 1e6)::bigint FROM sensor_reading r
JOIN sensor s ON s.id = r.sensor_id
WHERE s.name = $1 AND r.taken_on > timestamptz 'epoch' + $2::int8 * interval '1 microsecond'
"""


async def alarms(db: asyncpg.Connection, sensor: str = "hot") -> list[asyncpg.Record]:
    return list(await db.fetch(ALARMS, sensor))


async def stored_since(db: asyncpg.Connection, sensor: str, since_us: int, count: int) -> bool:
    return int(await db.fetchval(STORED_SINCE, sensor, since_us)) >= count


class Viewer:
    """A control room's view of the plant, without the screen: the feed and the picture."""

    def __init__(self, settings: Settings) -> None:
        self.picture = PlantPicture()
        self.feed = ViewerFeed(settings, "viewer", self._apply)
        self.snapshots = 0

    def _apply(self, message: Message) -> None:
        if isinstance(message, Snapshot):
            self.snapshots += 1
        self.picture.apply(message)

    def alarm_of(self, sensor: str) -> Alarm | None:
        found = [alarm for alarm in self.picture.alarms.values() if alarm.sensor == sensor]
        return found[0] if found else None


@asynccontextmanager
async def viewing(settings: Settings) -> AsyncIterator[Viewer]:
    viewer = Viewer(settings)
    async with asyncio.TaskGroup() as tasks:
        running = tasks.create_task(viewer.feed.run())
        await until(lambda: viewer.feed.connected, "the viewer connected")
        try:
            yield viewer
        finally:
            running.cancel()


def high_at(value: float, **options: float) -> list[AlarmLimit]:
    return [AlarmLimit("hot", Level.H, value, Priority.MEDIUM, **options)]


async def test_a_limit_change_is_in_force_in_two_running_coordinators_within_a_second(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    first = start_worker("coordinator")
    second = start_worker("coordinator")
    start_worker("datamanager")
    start_worker("sensor", "--name", "hot", *HOT, "--safe-max", "20")
    await until(lambda: "2 coordinators share" in first.log_text(), "the first sees two")
    await until(lambda: "2 coordinators share" in second.log_text(), "the second sees two")
    begun = now_us()
    await wait_for(lambda: stored_since(db, "hot", begun, 10), what="readings")
    assert await alarms(db) == [], "10..11 is inside a safe maximum of 20"

    async with viewing(settings) as viewer:
        sent = time.monotonic()
        await viewer.feed.change_limits("hot", high_at(5.0), OPERATOR, "tighter for the test")
        applied = f"definitions of hot in force: H 5 (by {ACTOR}: tighter for the test)"
        await until(
            lambda: applied in first.log_text() and applied in second.log_text(),
            "both coordinators to apply the change",
        )
        took = time.monotonic() - sent
    assert took < 1.0, f"the change took {took:.2f} s to be in force in both"

    rows = await wait_for(lambda: alarms(db), what="the alarm of the new limit")
    assert [(row["level"], row["priority"]) for row in rows] == [("H", "medium")]
    logged = await wait_for(
        lambda: db.fetchrow(
            "SELECT operator, sensor, detail FROM action_log WHERE action = 'limits'"
        ),
        what="the change in the action log",
    )
    assert logged["operator"] == ACTOR and logged["sensor"] == "hot"
    assert '"reason": "tighter for the test"' in logged["detail"]
    stored = await db.fetch(
        "SELECT level, value FROM alarm_limit l JOIN sensor s ON s.id = l.sensor_id"
        " WHERE s.name = 'hot'"
    )
    assert [(row["level"], row["value"]) for row in stored] == [("H", 5.0)]


async def test_a_bad_set_of_limits_is_refused_before_it_is_sent(settings: Settings) -> None:
    async with viewing(settings) as viewer:
        bad = [
            AlarmLimit("hot", Level.H, 5.0, Priority.HIGH),
            AlarmLimit("hot", Level.HH, 4.0, Priority.CRITICAL),
        ]
        try:
            await viewer.feed.change_limits("hot", bad, OPERATOR, "oops")
        except ValueError as error:
            assert str(error) == "hot: H (5) must be below HH (4)"
        else:
            raise AssertionError("a set out of order was sent")


async def test_a_shelving_ends_by_itself_while_the_coordinator_that_shelved_it_is_gone(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    shelving = start_worker("coordinator")
    start_worker("datamanager")
    start_worker("sensor", "--name", "hot", *HOT, "--safe-max", "5")
    (raised,) = await wait_for(lambda: alarms(db), what="the HIGH alarm")
    async with viewing(settings) as viewer:
        await viewer.feed.shelve("hot", Level.H, OPERATOR, "known fault", for_s=4.0)

        async def shelved() -> asyncpg.Record | None:
            rows = await alarms(db)
            return rows[0] if rows and rows[0]["hold_kind"] == "shelved" else None

        row = await wait_for(shelved, what="the shelving stored")
        alarm = await wait_for(
            lambda: _async(viewer.alarm_of("hot")), what="the alarm in the viewer"
        )
        await until(lambda: state_of(alarm) is AlarmState.SHELVED, "the viewer to see it shelved")
        await shelving.killed()  # the coordinator that shelved it is gone before the time is up
        start_worker("coordinator")

        async def returned() -> asyncpg.Record | None:
            rows = await alarms(db)
            return rows[0] if rows and rows[0]["hold_kind"] is None and rows[0]["open"] else None

        row = await wait_for(returned, timeout=30, what="the shelving to end by itself")
        assert row["id"] == raised["id"] and row["active"]
        await until(
            lambda: state_of(alarm, now_us()) is AlarmState.UNACKED,
            "the viewer to see it annunciate again",
        )
    ended = await db.fetchval("SELECT count(*) FROM action_log WHERE action = 'shelving ended'")
    assert ended == 1
    hold = await db.fetchrow("SELECT kind, by FROM alarm_hold")
    assert hold["kind"] is None and hold["by"] == ACTOR


async def test_an_on_delay_suppresses_a_short_excursion(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    start_worker("coordinator")
    start_worker("datamanager")
    async with viewing(settings) as viewer:
        await viewer.feed.change_limits("hot", high_at(5.0, on_delay_s=4.0), OPERATOR, "delay")
        await until(lambda: "hot" in viewer.picture.limits, "the change to be applied")
    begun = now_us()
    short = start_worker("sensor", "--name", "hot", *HOT)
    await wait_for(lambda: stored_since(db, "hot", begun, 10), what="the short excursion")
    assert await short.stopped() == 0
    back = start_worker("sensor", "--name", "hot", *BACK)
    returned = now_us()
    await wait_for(lambda: stored_since(db, "hot", returned + 500_000, 10), what="readings back")
    first = await db.fetchval(FIRST_STORED_SINCE, "hot", begun)
    last = await db.fetchval(
        "SELECT floor(extract(epoch FROM max(taken_on)) * 1e6)::bigint FROM sensor_reading"
        " WHERE value > 5"
    )
    assert last - first < 4_000_000, "the excursion was shorter than the on-delay"
    assert await alarms(db) == [], "an excursion shorter than the on-delay raises nothing"

    # The control: an excursion that lasts raises, once the on-delay has passed.
    assert await back.stopped() == 0
    again = now_us()
    start_worker("sensor", "--name", "hot", *HOT)
    (row,) = await wait_for(lambda: alarms(db), timeout=30, what="the alarm after the delay")
    first = await db.fetchval(FIRST_STORED_SINCE, "hot", again)
    assert row["raised_us"] - first >= 4_000_000


async def test_shelving_comments_and_acks_outlive_every_process_and_a_new_viewer_sees_them(
    settings: Settings, db: asyncpg.Connection, start_worker: Callable[..., Worker]
) -> None:
    plant = [
        start_worker("coordinator"),
        start_worker("datamanager"),
        start_worker("sensor", "--name", "hot", *HOT, "--safe-max", "5"),
    ]
    (raised,) = await wait_for(lambda: alarms(db), what="the HIGH alarm")
    async with viewing(settings) as viewer:
        await viewer.feed.comment(raised["id"], OPERATOR, "operator on the way")
        await viewer.feed.acknowledge(raised["id"], OPERATOR, "seen, valve closing")
        await viewer.feed.shelve("hot", Level.H, OPERATOR, "valve closing", for_s=3600.0)

        async def all_stored() -> bool:
            rows = await alarms(db)
            comments = await db.fetchval("SELECT count(*) FROM alarm_comment")
            return bool(rows and rows[0]["acked_by"] and rows[0]["hold_kind"] and comments == 2)

        await wait_for(all_stored, what="the comments, the ack and the shelving stored")
    for worker in plant:
        assert await worker.stopped() == 0
    start_worker("coordinator")
    start_worker("datamanager")
    start_worker("sensor", "--name", "hot", *HOT, "--safe-max", "5")

    async with viewing(settings) as viewer:  # a new control room
        await until(lambda: viewer.snapshots > 0, "the snapshot")
        alarm = viewer.alarm_of("hot")
        assert alarm is not None and alarm.id == raised["id"], "shown at once, from the snapshot"
        assert state_of(alarm, now_us()) is AlarmState.SHELVED
        assert alarm.hold is not None and alarm.hold.kind is HoldKind.SHELVED
        assert alarm.hold.reason == "valve closing" and alarm.acked_by == ACTOR
        assert [c.text for c in alarm.comments] == ["operator on the way", "seen, valve closing"]
        assert ("hot", Level.H) in viewer.picture.holds
    assert [row["id"] for row in await alarms(db)] == [raised["id"]], "still one alarm"


async def _async(value: Alarm | None) -> Alarm | None:
    return value
