"""What a starting coordinator takes over before it evaluates a reading: the alarm
definitions, the holds and the open alarms.

An excursion must be one alarm whatever restarts during it, so a coordinator's alarm state may
not live only in its memory. It is where the alarms already are (docs/architecture.md, "Alarm
state outlives every process"): PostgreSQL, once the persist backlog ahead of us is stored, and
the other coordinators, whose alarms the mirror brings. What a dead coordinator sent but never
saw confirmed is re-raised from its redelivered frames under the same id (`alarm_id`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractQueue

from controlroom.config import Settings
from controlroom.db.alarm_limits import stored_definitions
from controlroom.db.connection import connect
from controlroom.db.history import alarm_holds, open_alarms
from controlroom.errors import ConfigError, DatabaseUnavailable, describe
from controlroom.plant.alarms import Alarm, Hold
from controlroom.waiting import within
from controlroom.wire.envelopes import LimitsChange
from workers.lifecycle import until_it_works

log = logging.getLogger(__name__)

# How long a start waits for the datamanagers to store the persist backlog, and for PostgreSQL
# to answer. Both are bounded: a coordinator that cannot take over still runs (and says so),
# because readings and viewers must not stop for a database outage.
BACKLOG_WAIT_S = 5.0
DATABASE_WAIT_S = 5.0
POLL_S = 0.05
# Alarms still active or unacknowledged: one per sensor and limit at most are active, the rest
# wait for an operator; far more than a plant should ever hold.
MOST_OPEN = 100_000


async def backlog_stored(persist: AbstractQueue, wait_s: float = BACKLOG_WAIT_S) -> bool:
    """Wait until no persist message waits for a datamanager; False if that did not happen.

    With no datamanager consuming, nothing will be stored soon: waiting would only delay us.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        counts = await persist.declare()
        if counts.message_count == 0:
            return True
        if counts.consumer_count == 0 or loop.time() >= deadline:
            log.warning(
                "%d persist messages not yet stored (%d datamanagers): alarms raised in them are "
                "not taken over",
                counts.message_count,
                counts.consumer_count,
            )
            return False
        await asyncio.sleep(POLL_S)


@dataclass(frozen=True, slots=True)
class Stored:
    """What PostgreSQL holds of the alarms: definitions, holds, open alarms."""

    definitions: list[LimitsChange]
    holds: list[Hold]
    alarms: list[Alarm]


async def stored_alarm_state(settings: Settings, wait_s: float = DATABASE_WAIT_S) -> Stored | None:
    """What PostgreSQL holds of the alarms, or None (with one log line) if it cannot tell."""

    async def load() -> Stored:
        connection = await connect(settings)
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                return Stored(
                    await stored_definitions(connection),
                    await alarm_holds(connection),
                    await open_alarms(connection, MOST_OPEN),
                )
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as error:
            raise DatabaseUnavailable(describe(error)) from None
        finally:
            connection.terminate()

    try:
        return await within(
            until_it_works(
                load,
                on=(DatabaseUnavailable,),
                failing=lambda error: log.warning(
                    "cannot take over the stored alarms yet: %s", describe(error)
                ),
                working_again=lambda: log.info("database back; taking over the stored alarms"),
            ),
            wait_s,
        )
    except TimeoutError:
        log.warning(
            "database unavailable for %.0f s: running without the stored alarms (an excursion "
            "under way may be alarmed again)",
            wait_s,
        )
    except (asyncpg.PostgresError, ConfigError) as error:  # e.g. a schema not migrated yet
        log.warning("cannot read the stored alarms (%s): running without them", describe(error))
    return None
