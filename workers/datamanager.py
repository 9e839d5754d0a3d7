"""`controlroom-worker datamanager`: stores persist batches in PostgreSQL.

Messages are gathered into transactions of up to BATCH_READINGS readings and written by several
writers at once (one connection each), so decoding overlaps with the database's work. A message
is acked only after its transaction commits; storing is idempotent, so a redelivery after a
crash stores nothing twice. When PostgreSQL goes away the writers wait and retry the same batch;
a message the database refuses on its own is dead-lettered with a log line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass
from functools import partial

import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, ConsumerTag

from controlroom import metrics
from controlroom.broker.connection import connect as connect_broker
from controlroom.broker.topology import Topology
from controlroom.config import Settings
from controlroom.db import connect as connect_database
from controlroom.db.connection import CONNECTION_ERRORS
from controlroom.db.maintenance import maintain
from controlroom.db.roles import owns_schema
from controlroom.db.rollups import refresh
from controlroom.db.writer import BatchWriter
from controlroom.errors import ConfigError, DatabaseUnavailable, InvalidMessage, describe
from controlroom.processes import DRAIN_TIMEOUT_S
from controlroom.waiting import within
from controlroom.wire.codec import Decoder
from controlroom.wire.envelopes import PersistBatch
from workers.lifecycle import stop_on_signals, until_it_works

HELP = "stores readings, alarms and actions from the persist queue in PostgreSQL"

log = logging.getLogger(__name__)

BATCH_READINGS = 20_000
BATCH_WAIT_S = 0.02
PREFETCH = 32
MAINTAIN_EVERY_S = 600.0
ROLLUP_EVERY_S = 10.0
# InternalClientError: a connection whose operation the server cut short (a shutdown) can be
# left mid-protocol ("cannot switch to state ..."); a new connection is the cure.
RETRYABLE = (
    *CONNECTION_ERRORS,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.InternalClientError,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--writers", type=int, default=2, help="database connections writing at once (default 2)"
    )
    parser.add_argument(
        "--maintain-every",
        type=float,
        default=MAINTAIN_EVERY_S,
        metavar="SECONDS",
        help="run the history's maintenance (`db maintain`) this often; 0: never "
        f"(default {MAINTAIN_EVERY_S:.0f})",
    )
    parser.add_argument(
        "--rollup-every",
        type=float,
        default=ROLLUP_EVERY_S,
        metavar="SECONDS",
        help="bring the 1-minute and 1-hour rollups up to date this often; 0: only in "
        f"maintenance (default {ROLLUP_EVERY_S:.0f})",
    )


@dataclass(slots=True)
class Work:
    batches: list[PersistBatch]
    messages: list[AbstractIncomingMessage]

    @property
    def readings(self) -> int:
        return sum(batch.reading_count for batch in self.batches)


class DataManager:
    def __init__(
        self,
        settings: Settings,
        writers: int = 2,
        maintain_every: float = MAINTAIN_EVERY_S,
        rollup_every: float = ROLLUP_EVERY_S,
    ) -> None:
        self.settings = settings
        self.maintain_every = maintain_every
        self.rollup_every = rollup_every
        self.topology = Topology.of(settings)
        self.writers = writers
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._work: asyncio.Queue[Work] = asyncio.Queue(writers)
        self.stored = 0
        self._decoder = Decoder()

    async def run(self, stopping: asyncio.Event) -> int:
        # Fail fast, with one line, if the database is not there at all at start.
        first = await connect_database(self.settings)
        await first.close()
        connection = await connect_broker(self.settings, "datamanager")
        async with connection:
            channel = await connection.channel(publisher_confirms=False)
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await self.topology.persist(channel)
            async with asyncio.TaskGroup() as tasks:
                writers = [tasks.create_task(self._write(n)) for n in range(self.writers)]
                batching = tasks.create_task(self._gather())
                upkeep = [
                    tasks.create_task(self._upkeep(what, every))
                    for what, every in (
                        ("maintain", self.maintain_every),
                        ("rollup", self.rollup_every),
                    )
                    if every
                ]
                tag = await queue.consume(self._inbox.put)
                log.info("datamanager storing %s with %d writers", queue.name, self.writers)
                await stopping.wait()
                try:
                    await within(self._finish(queue, tag), DRAIN_TIMEOUT_S)
                except TimeoutError:
                    # The broker or the database is away. What is not stored was not acked:
                    # the broker delivers it again, to us or another datamanager.
                    log.warning(
                        "leaving with unstored messages after %.0f s; the broker will deliver "
                        "them again",
                        DRAIN_TIMEOUT_S,
                    )
                batching.cancel()
                for task in upkeep:
                    task.cancel()
                for writer in writers:
                    writer.cancel()
        log.info("datamanager stopped; %d readings stored in this run", self.stored)
        return 0

    async def _finish(self, queue: AbstractQueue, tag: ConsumerTag) -> None:
        """Stop taking messages, then store the work gathered so far."""
        try:
            await queue.cancel(tag)
        except Exception as error:  # the channel is gone: its messages are redelivered anyway
            log.debug("could not cancel the consumer: %s", describe(error))
        await self._work.join()

    async def _upkeep(self, what: str, every: float) -> None:
        """The history's maintenance or its rollups on a schedule (another datamanager may
        hold the round: it is skipped)."""
        while True:
            try:
                connection = await connect_database(self.settings)
                try:
                    if what == "maintain" and not await owns_schema(
                        connection, self.settings.plant
                    ):
                        log.info(
                            "history maintenance is not this role's: partitions are the owner's "
                            "(run `controlroom-worker db maintain` as owner; `controlroom up` does)"
                        )
                        return
                    if what == "maintain":
                        report = await maintain(connection)
                        if report.changed:
                            log.info("%s", report.summary())
                    else:
                        await refresh(connection)
                finally:
                    await connection.close()
            except (DatabaseUnavailable, *RETRYABLE, asyncpg.PostgresError) as error:
                log.warning(
                    "history %s failed (next round in %.0f s): %s", what, every, describe(error)
                )
            await asyncio.sleep(every)

    async def _gather(self) -> None:
        """Decode messages into units of work of up to BATCH_READINGS readings."""
        loop = asyncio.get_running_loop()
        while True:
            work = Work([], [])
            message = await self._inbox.get()
            deadline = loop.time() + BATCH_WAIT_S
            while True:
                await self._add(work, message)
                if work.readings >= BATCH_READINGS:
                    break
                try:
                    message = await within(self._inbox.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
            if work.messages:
                await self._work.put(work)

    async def _add(self, work: Work, message: AbstractIncomingMessage) -> None:
        try:
            batch = self._decoder.decode_as(message.body, PersistBatch)
        except InvalidMessage as error:
            log.warning("rejected a persist message (dead-lettered): %s", error)
            metrics.DEAD_LETTERS.inc()
            await message.reject(requeue=False)
            return
        work.batches.append(batch)
        work.messages.append(message)
        metrics.READINGS_IN.inc(batch.reading_count)
        metrics.BACKLOG.inc(batch.reading_count)

    async def _write(self, number: int) -> None:
        writer: BatchWriter | None = None

        async def store(work: Work) -> None:
            nonlocal writer
            try:
                if writer is None:
                    writer = await self._open_writer()
                await self._store(writer, work)
            except (DatabaseUnavailable, *RETRYABLE):
                writer = None  # a new connection for the next try
                raise

        while True:
            work = await self._work.get()
            await until_it_works(
                partial(store, work),
                on=(DatabaseUnavailable, *RETRYABLE),
                failing=partial(_unavailable, number, len(work.messages)),
                working_again=partial(log.info, "writer %d: database back; writing again", number),
            )
            metrics.BACKLOG.dec(work.readings)
            self._work.task_done()

    async def _open_writer(self) -> BatchWriter:
        connection = await connect_database(self.settings)
        writer = BatchWriter(connection)
        await writer.prepare()
        return writer

    async def _store(self, writer: BatchWriter, work: Work) -> None:
        try:
            with metrics.COMMIT_SECONDS.time():
                stored = await writer.write(work.batches)
            self.stored += stored
            metrics.READINGS_OUT.inc(stored)
            metrics.BATCHES.inc()
        except asyncpg.PostgresError as error:
            if isinstance(error, RETRYABLE) or len(work.messages) == 1:
                if isinstance(error, RETRYABLE):
                    raise
                log.error(
                    "rejected a persist message the database refuses (dead-lettered): %s", error
                )
                metrics.DEAD_LETTERS.inc()
                await work.messages[0].reject(requeue=False)
                return
            # One bad message must not hold back the rest: store them one by one.
            for batch, message in zip(work.batches, work.messages, strict=True):
                await self._store(writer, Work([batch], [message]))
            return
        for message in work.messages:
            try:
                await message.ack()
            except Exception as error:  # channel lost: the broker redelivers; storing is idempotent
                log.debug("could not ack: %s", describe(error))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.writers <= 16:
        raise ConfigError("--writers must be between 1 and 16")
    if not (args.maintain_every == 0 or 1 <= args.maintain_every <= 86400):
        raise ConfigError("--maintain-every must be 0 (never) or between 1 and 86400 seconds")
    if not (args.rollup_every == 0 or 1 <= args.rollup_every <= 3600):
        raise ConfigError("--rollup-every must be 0 (only in maintenance) or 1 to 3600 seconds")
    manager = DataManager(settings, args.writers, args.maintain_every, args.rollup_every)
    with stop_on_signals() as stopping:
        return await manager.run(stopping)


def _unavailable(writer: int, messages: int, error: Exception) -> None:
    log.warning(
        "writer %d: database unavailable (%s); waiting to retry %d messages",
        writer,
        describe(error),
        messages,
    )
