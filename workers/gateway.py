"""A source of readings: one or many simulated sensors publishing one frame per tick.

A process that simulates many sensors is a gateway, like a plant's remote terminal unit: it
publishes one frame per tick carrying all its sensors' readings, which is how telemetry gets
fast. A lone sensor is a gateway of one.

Delivery: each frame goes to the source's durable queue as a persistent message, and counts as
delivered only when the broker confirms it (`publish_confirmed`: a frame no queue took, the
queue deleted, comes back; the queue is declared again and the frame is retried).
One message is in flight at a time, so frames arrive in order; whatever piled up meanwhile
(a slow confirm, a broker outage) is merged into the next message. Readings taken while the
broker is away wait in a bounded buffer; when it is full the oldest readings are dropped,
counted, logged, and reported in the goodbye.

Names: a source holds its own name and, up to CLAIM_EACH_UP_TO sensors, each sensor's name
(`controlroom.broker.claims`) for as long as its connection lives, so a second process under a
running sensor's name is refused at start (NameTaken). Claiming costs the broker a queue per
name, about 4 ms each and growing with their number (10,000 took 45 s, `python -m bench
claims`), so a larger gateway
claims its source only, and the coordinator reports two live runs of one sensor. After an
outage the names are claimed again before anything is published; if another process took one
meanwhile, the gateway stops at once, without a goodbye (it would mark the other's sensor
offline), and says so.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from controlroom import metrics
from controlroom.broker.claims import claim
from controlroom.broker.connection import connect
from controlroom.broker.publishing import json_message, publish_confirmed
from controlroom.broker.topology import Topology, readings_key
from controlroom.clock import now_us
from controlroom.config import Settings
from controlroom.errors import InvalidMessage, NameTaken, NotConnected, describe
from controlroom.plant.readings import Frame, Layout
from controlroom.plant.sensors import SensorInfo
from controlroom.processes import DRAIN_TIMEOUT_S
from controlroom.simulation.sensor import SimulatedSensor
from controlroom.simulation.timeline import FaultTimeline
from controlroom.simulation.walks import RandomWalks
from controlroom.waiting import within
from controlroom.wire.codec import Decoder, encode
from controlroom.wire.envelopes import Announce, Discover, Goodbye, Stop
from workers.lifecycle import until_it_works

log = logging.getLogger(__name__)

DEFAULT_BUFFER_READINGS = 1_000_000
# A backlog (a slow confirm, an outage) is merged into messages of at most this many readings
# (one tick's frame may be larger): about 1 MB, so whoever prefetches them holds bounded memory.
MAX_MESSAGE_READINGS = 20_000
CONFIRM_TIMEOUT_S = 15.0
LEAVE_TIMEOUT_S = 5.0
# A gateway of at most this many sensors claims each sensor's name; a larger one its source only.
CLAIM_EACH_UP_TO = 100


@dataclass(slots=True)
class Cohort:
    """The sensors of a gateway that tick together (one frequency): one frame per tick.

    They share a seq (each sensor's count of its readings in this run) and a time, so their
    frames travel with those columns as single numbers, and their walks step as arrays.
    """

    period: float
    layout: Layout
    walks: RandomWalks
    next_due: float = 0.0
    seq: int = 0
    last_taken_on: int = 0
    # Only a cohort with faults has one; without, a tick is what it always was.
    faults: FaultTimeline | None = None

    @classmethod
    def of(cls, sensors: list[SimulatedSensor], fault_epoch: float | None = None) -> Cohort:
        names = [s.info.name for s in sensors]
        walks = RandomWalks(
            [s.minimum for s in sensors],
            [s.maximum for s in sensors],
            [s.step for s in sensors],
        )
        faults = [fault.for_sensor(s.info.name) for s in sensors for fault in s.faults]
        timeline = FaultTimeline(names, faults, walks, fault_epoch) if faults else None
        return cls(
            period=1.0 / sensors[0].freq_hz, layout=Layout(names), walks=walks, faults=timeline
        )

    def take(self, source: str, run: str, now: float) -> Frame | None:
        """Every sensor's next reading (None: all in a dropout); the next tick is due a
        period on."""
        # Strictly increasing per sensor: (sensor, taken_on) is the stored reading's key.
        stamp = max(now_us(), self.last_taken_on + 1)
        self.last_taken_on = stamp
        self.next_due += self.period
        if self.next_due < now:  # fell behind: skip missed ticks rather than burst
            self.next_due = now + self.period
        timeline = self.faults
        if timeline is None:
            self.seq += 1
            count = len(self.layout)
            return Frame(
                source, run, self.layout, [self.seq] * count, [stamp] * count, self.walks.next()
            )
        tick = timeline.tick(self.layout, timeline.elapsed(now))
        if tick is None:
            return None
        return Frame(source, run, tick.layout, tick.seqs, [stamp] * len(tick.seqs), tick.values)

    def remove(self, name: str) -> None:
        """A sensor stopped; the others go on (in a new layout)."""
        names = self.layout.names
        index = names.index(name)
        self.layout = Layout(names[:index] + names[index + 1 :])
        self.walks.remove(index)
        if self.faults is not None:
            self.faults.remove(name)


class Confirmed:
    """Each sensor's last seq the broker confirmed: what its goodbye reports.

    Frames name the same sensors tick after tick, so the newest confirmed frame is kept as it
    is until a frame of other sensors comes or the goodbye asks: no work per reading.
    """

    def __init__(self) -> None:
        self._seqs: dict[str, int] = {}
        self._newest: Frame | None = None

    def add(self, frame: Frame) -> None:
        newest = self._newest
        if newest is not None and not frame.ticks_of(newest.layout.tick):
            self._record(newest)
        self._newest = frame

    def last_seqs(self, names: list[str]) -> dict[str, int]:
        if self._newest is not None:
            self._record(self._newest)
            self._newest = None
        return {name: self._seqs.get(name, 0) for name in names}

    def _record(self, frame: Frame) -> None:
        self._seqs.update(zip(frame.names, frame.seqs, strict=True))


@dataclass(slots=True)
class Buffer:
    """Frames taken but not yet confirmed, bounded by a number of readings."""

    limit: int
    frames: deque[Frame] = field(default_factory=deque)
    readings: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    overflowing: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Set while nothing is buffered or in flight: what a leaving gateway waits for.
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    in_flight: int = 0

    def __post_init__(self) -> None:
        self.drained.set()

    def confirmed(self) -> None:
        self.in_flight = 0
        if not self.frames:
            self.drained.set()

    def append(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.readings += len(frame)
        self._enforce_limit()
        self.ready.set()
        self.drained.clear()

    def take(self, most: int) -> list[Frame]:
        """Frames from the front, up to `most` readings (at least one frame)."""
        taken: list[Frame] = []
        count = 0
        while self.frames and (not taken or count + len(self.frames[0]) <= most):
            frame = self.frames.popleft()
            count += len(frame)
            taken.append(frame)
        self.readings -= count
        self.in_flight = count
        if not self.frames:
            self.ready.clear()
        return taken

    def put_back(self, frames: list[Frame]) -> None:
        """Return unconfirmed frames to the front, in order."""
        self.in_flight = 0
        for frame in reversed(frames):
            self.frames.appendleft(frame)
            self.readings += len(frame)
        self._enforce_limit()
        if self.frames:
            self.ready.set()

    def _enforce_limit(self) -> None:
        before = sum(self.dropped.values())
        while self.readings > self.limit and len(self.frames) > 1:
            oldest = self.frames.popleft()
            self.readings -= len(oldest)
            self.dropped.update(oldest.names)
        lost = sum(self.dropped.values()) - before
        if lost and not self.overflowing:
            self.overflowing = True
            log.warning(
                "buffer full (%d readings): dropping the oldest readings until the broker "
                "takes them",
                self.limit,
            )
        elif not lost and self.overflowing and self.readings < self.limit // 2:
            self.overflowing = False
            log.info("buffer below half full again; %d readings dropped so far", before)


class Gateway:
    """Simulates sensors, publishes their frames, obeys discovery and remote stops."""

    def __init__(
        self,
        settings: Settings,
        source: str,
        sensors: list[SimulatedSensor],
        *,
        buffer_readings: int = DEFAULT_BUFFER_READINGS,
        fault_epoch: float | None = None,
    ) -> None:
        self.settings = settings
        self.topology = Topology.of(settings)
        self.source = source
        self.run_id = uuid.uuid4().hex
        self.active: dict[str, SensorInfo] = {s.info.name: s.info for s in sensors}
        by_freq: dict[float, list[SimulatedSensor]] = {}
        for sensor in sensors:
            by_freq.setdefault(sensor.freq_hz, []).append(sensor)
        self.cohorts = [Cohort.of(group, fault_epoch) for group in by_freq.values()]
        self.buffer = Buffer(limit=buffer_readings)
        self.confirmed = Confirmed()
        self.leaving: list[str] = []
        # None asks for an announcement; a name asks for that sensor's goodbye.
        self._notices: asyncio.Queue[str | None] = asyncio.Queue()
        self._all_stopped = asyncio.Event()
        self._command_tag = ""
        self._decoder = Decoder()
        # Set while this process holds its names on the current connection; publishing waits.
        self._claimed = asyncio.Event()
        self._reclaim: asyncio.Queue[None] = asyncio.Queue()
        self._name_lost = asyncio.Event()
        self.lost: NameTaken | None = None

    @property
    def claimed_names(self) -> list[str]:
        """The names this source holds while it runs: its own, and its sensors' if few."""
        names = [self.source]
        if len(self.active) <= CLAIM_EACH_UP_TO:
            names += [name for name in self.active if name != self.source]
        return names

    async def run(self, stopping: asyncio.Event) -> int:
        connection = await connect(self.settings, f"source {self.source}")
        async with connection:
            await claim(connection, self.topology, self.claimed_names)  # NameTaken: exit 2
            self._claimed.set()
            connection.close_callbacks.add(lambda *_: self._claimed.clear())
            connection.reconnect_callbacks.add(lambda *_: self._reclaim.put_nowait(None))
            channel = await connection.channel()  # publisher confirms on
            queue = await self.topology.readings(channel, self.source)
            announcements = await self.topology.announcements(channel)
            commands = await self._listen_for_commands(connection)
            connection.reconnect_callbacks.add(lambda *_: self._notices.put_nowait(None))
            self._notices.put_nowait(None)
            log.info(
                "source %s (run %s) publishing %d sensors to %s",
                self.source,
                self.run_id,
                len(self.active),
                queue.name,
            )
            async with asyncio.TaskGroup() as tasks:
                ticking = tasks.create_task(self._tick())
                publishing = tasks.create_task(self._publish(channel, queue))
                announcing = tasks.create_task(self._announce(announcements))
                claiming = tasks.create_task(self._keep_claims(connection))
                await _first_of(stopping, self._all_stopped, self._name_lost)
                ticking.cancel()
                if self.lost is None:
                    await self._flush()
                publishing.cancel()
                announcing.cancel()
                claiming.cancel()
                await _bounded(commands.cancel(self._command_tag), "stop listening for commands")
            if self.lost is not None:
                raise NameTaken(
                    f"after reconnecting: {self.lost}; stopped without a goodbye, "
                    f"{self.buffer.readings} readings unsent"
                )
            await self._goodbye(announcements, [*self.active, *self.leaving])
        return 0

    async def _keep_claims(self, connection: AbstractRobustConnection) -> None:
        """After every reconnect, hold the names again before anything is published."""
        while True:
            await self._reclaim.get()
            try:
                await until_it_works(
                    partial(claim, connection, self.topology, self.claimed_names),
                    on=(NotConnected,),
                    failing=lambda error: log.warning("claiming names failed (%s)", error),
                    working_again=partial(log.info, "names claimed again"),
                )
            except NameTaken as error:
                self.lost = error
                self._name_lost.set()
                return
            self._claimed.set()

    # --- ticking ---------------------------------------------------------------------------

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for cohort in self.cohorts:
            cohort.next_due = start
        while self.cohorts:
            now = loop.time()
            due = [cohort for cohort in self.cohorts if cohort.next_due <= now]
            taken = [cohort.take(self.source, self.run_id, now) for cohort in due]
            frames = [frame for frame in taken if frame is not None]
            if frames:
                self.buffer.append(frames[0] if len(frames) == 1 else Frame.merge(frames))
                metrics.READINGS_IN.inc(sum(len(frame) for frame in frames))
            wake = min(cohort.next_due for cohort in self.cohorts)
            await asyncio.sleep(max(0.0, wake - loop.time()))

    # --- publishing ------------------------------------------------------------------------

    async def _publish(
        self, channel: aio_pika.abc.AbstractChannel, queue: aio_pika.abc.AbstractQueue
    ) -> None:
        queue_name = queue.name
        entry = await self.topology.frames(channel)
        key = readings_key(self.source)

        async def publish_next() -> Frame:
            await self._claimed.wait()  # set at once but after a reconnect
            await self.buffer.ready.wait()
            frames = self.buffer.take(MAX_MESSAGE_READINGS)
            frame = frames[0] if len(frames) == 1 else Frame.merge(frames)
            try:
                await publish_confirmed(
                    entry,
                    encode(frame),
                    key,
                    timeout=CONFIRM_TIMEOUT_S,
                    redeclare=lambda: self.topology.readings(channel, self.source),
                )
            except BaseException:  # any failure, a cancellation too: keep the readings
                self.buffer.put_back(frames)
                raise
            return frame

        def failing(error: Exception) -> None:
            log.warning(
                "publishing to %s failed (%s); %d readings kept for retry",
                queue_name,
                describe(error),
                self.buffer.readings,
            )

        while True:
            frame = await until_it_works(
                publish_next,
                on=(Exception,),
                failing=failing,
                working_again=partial(log.info, "publishing to %s again", queue_name),
            )
            self.confirmed.add(frame)
            self.buffer.confirmed()
            metrics.READINGS_OUT.inc(len(frame))
            metrics.BACKLOG.set(self.buffer.readings)

    async def _flush(self) -> None:
        """Give buffered readings a last chance to be confirmed before leaving."""
        try:
            await within(self.buffer.drained.wait(), DRAIN_TIMEOUT_S)
        except TimeoutError:
            log.error("leaving with %d readings the broker never confirmed", self.buffer.readings)

    # --- discovery and commands ------------------------------------------------------------

    async def _announce(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        """Send announcements and early goodbyes (one sensor of several stopped), in order."""
        while True:
            notice = await self._notices.get()
            if notice is not None:
                await self._goodbye(exchange, [notice])
                continue
            if not self.active:
                continue
            await self._claimed.wait()  # after a reconnect, only once the names are ours again
            announce = Announce(self.source, self.run_id, list(self.active.values()))
            try:
                await exchange.publish(
                    json_message(encode(announce), persistent=False),
                    routing_key=readings_key(self.source),
                )
            except Exception as error:  # the reconnect callback asks again
                log.warning("announcing failed (%s); will retry", describe(error))
                await asyncio.sleep(1.0)
                self._notices.put_nowait(None)
            else:
                log.info("announced %d sensors", len(announce.sensors))

    async def _listen_for_commands(
        self, connection: AbstractRobustConnection
    ) -> aio_pika.abc.AbstractQueue:
        channel = await connection.channel(publisher_confirms=False)
        queue = await self.topology.private(channel)
        await queue.bind(await self.topology.discovery(channel))
        # The stops for this source's sensors, passed on by a coordinator (keyed by source).
        await queue.bind(await self.topology.stops(channel), routing_key=readings_key(self.source))
        self._command_tag = await queue.consume(self._on_command)
        return queue

    async def _on_command(self, message: AbstractIncomingMessage) -> None:
        try:
            command = self._decoder.decode(message.body)
            if not isinstance(command, Discover | Stop):
                raise InvalidMessage(f"a sensor does not take {type(command).__name__}")
        except InvalidMessage as error:
            log.warning("rejected a command (dead-lettered): %s", error)
            metrics.DEAD_LETTERS.inc()
            await message.reject(requeue=False)
            return
        await message.ack()
        if isinstance(command, Discover):
            self._notices.put_nowait(None)
        elif command.sensor in self.active:
            # Who asked: a coordinator passes an operator's stop on with the operator's login
            # as the broker vouched for it; only coordinators may publish stops.
            via = message.user_id or "no login"
            log.info("stop requested for %s by %s (via %s)", command.sensor, command.by, via)
            del self.active[command.sensor]
            for cohort in self.cohorts:
                if command.sensor in cohort.layout.names:
                    cohort.remove(command.sensor)
            self.cohorts = [cohort for cohort in self.cohorts if len(cohort.layout)]
            self.leaving.append(command.sensor)
            if self.active:
                self._notices.put_nowait(command.sensor)
            else:
                self._all_stopped.set()

    async def _goodbye(self, exchange: aio_pika.abc.AbstractExchange, names: list[str]) -> None:
        goodbye = Goodbye(
            self.source,
            self.run_id,
            last_seq=self.confirmed.last_seqs(names),
            dropped={
                name: self.buffer.dropped[name] for name in names if self.buffer.dropped[name]
            },
        )
        try:
            # Bounded as a whole: a robust channel waits for the broker before it publishes.
            await within(
                exchange.publish(
                    json_message(encode(goodbye), persistent=False),
                    routing_key=readings_key(self.source),
                ),
                LEAVE_TIMEOUT_S,
            )
        except Exception as error:
            log.warning("could not say goodbye (%s)", describe(error))
        else:
            log.info("said goodbye for %d sensors", len(names))


async def _bounded(step: Awaitable[object], what: str) -> None:
    """A step on the way out that needs the broker: bounded in time, and never fatal."""
    try:
        await within(step, LEAVE_TIMEOUT_S)
    except Exception as error:
        log.warning("could not %s (%s)", what, describe(error))


async def _first_of(*events: asyncio.Event) -> None:
    async with asyncio.TaskGroup() as tasks:
        waiters = [tasks.create_task(event.wait()) for event in events]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
