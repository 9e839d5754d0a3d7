"""Three coordinators share twelve sources: four each, taken over when one goes, given back
when it returns; each reading stored once, and a viewer sees every sensor's readings in order.

The coordinators say in their logs which sources they consume and hand over; the broker's single
active consumer per queue is what makes that safe while they change their minds. What must
hold: the shares balanced within one at each step, sources taken over within 10 s, the audit
clean (each reading stored once), and no viewer seeing any sensor's readings out of order, nor
twice over a graceful hand-over. Only a coordinator killed outright shows a viewer a few
readings again: what it had handled but not yet acked is handled again by the next (and stored
once: the datamanager's writes are idempotent).
"""

from __future__ import annotations

import logging
import re
import signal
import time
from collections import defaultdict

import pytest

from controlroom.config import Settings
from controlroom.plant.readings import Frame
from devsupport.cluster import LocalCluster
from tests.faults.harness import Plant, assert_complete
from tests.support import EventTap, Worker, until

pytestmark = pytest.mark.cluster

log = logging.getLogger(__name__)

SOURCES = [f"s{n:02d}" for n in range(1, 13)]
TAKE_OVER_S = 10.0
EVENT = re.compile(r"(consuming readings of|handed over) source (\S+)")


def share(worker: Worker) -> set[str]:
    """The sources a coordinator consumes now, from its log."""
    mine: set[str] = set()
    for found in EVENT.finditer(worker.log_text()):
        if found.group(1) == "consuming readings of":
            mine.add(found.group(2))
        else:
            mine.discard(found.group(2))
    return mine


def shares(workers: list[Worker]) -> list[int] | None:
    """Each coordinator's count, if together they consume every source exactly once."""
    sets = [share(worker) for worker in workers]
    every = [source for mine in sets for source in mine]
    if sorted(every) != SOURCES:
        return None
    return sorted(len(mine) for mine in sets)


async def balanced(workers: list[Worker], expect: list[int], what: str) -> float:
    began = time.monotonic()
    try:
        await until(lambda: shares(workers) == expect, what, timeout=TAKE_OVER_S)
    except AssertionError:
        detail = {str(worker): sorted(share(worker)) for worker in workers}
        raise AssertionError(f"{what}: {detail}") from None
    return time.monotonic() - began


class Order:
    """Per sensor and run, the seqs a viewer saw: how many came twice, and any that came after
    a later one (out of order)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.last: dict[tuple[str, str], int] = {}
        self.repeated = 0
        self.repeats: list[str] = []
        self.backwards: list[str] = []

    def check(self, received: list[tuple[str, object]], senders: list[str]) -> Order:
        first: dict[tuple[str, str, int], str] = {}
        for (_, message), sender in zip(received, senders, strict=True):
            if not isinstance(message, Frame):
                continue
            for name, seq in zip(message.names, message.seqs, strict=True):
                key = (name, message.run)
                if seq in self.seen[key]:
                    self.repeated += 1
                    self.repeats.append(f"{name} {seq} from {first[(*key, seq)][:8]}, {sender[:8]}")
                    continue
                first[(*key, seq)] = sender
                if seq < self.last.get(key, 0):
                    self.backwards.append(f"{name}: {seq} after {self.last[key]}")
                self.seen[key].add(seq)
                self.last[key] = max(seq, self.last.get(key, 0))
        return self


def notable(plant: Plant, order: Order) -> str:
    """What a failure shows: the readings seen twice or out of order, and the log lines that
    may say why."""
    words = ("WARNING", "ERROR", "handed over", "consuming readings", "coordinators share")
    lines = [
        f"{worker}: {line}"
        for worker in plant.workers
        for line in worker.log_text().splitlines()
        if any(word in line for word in words)
    ]
    return "\n".join([*order.repeats[:10], *order.backwards[:10], *lines[-80:]])


async def test_three_coordinators_share_twelve_sources(
    cluster: LocalCluster, plant: Plant, settings: Settings
) -> None:
    async with EventTap(settings, "reading.#") as viewer:
        plant.datamanager()
        sensors = [plant.sensor(name, freq=5) for name in SOURCES]
        coordinators = [plant.coordinator() for _ in range(3)]
        await plant.wait_flowing(100, timeout=60)
        await balanced(coordinators, [4, 4, 4], "three coordinators four sources each")
        await plant.wait_flowing(50, timeout=30)
        starting = Order().check(viewer.received, viewer.senders)
        assert not starting.backwards, notable(plant, starting)

        leaving = coordinators.pop(0)
        assert await leaving.stopped(timeout=30) == 0
        took = await balanced(coordinators, [6, 6], "two take the sources of one that left")
        await plant.wait_flowing(50, timeout=30)
        left = Order().check(viewer.received, viewer.senders)
        assert not left.backwards, notable(plant, left)
        back = plant.coordinator()
        coordinators.append(back)
        given = await balanced(coordinators, [4, 4, 4], "the one back gets its share")
        await plant.wait_flowing(100, timeout=30)
        graceful = Order().check(viewer.received, viewer.senders)
        assert not graceful.backwards, notable(plant, graceful)
        assert not graceful.repeated, notable(plant, graceful)
        seen = len(viewer.received)

        killed = coordinators.pop(0)
        killed.signal(signal.SIGKILL)
        taken = await balanced(coordinators, [6, 6], "two take the sources of one killed")
        await plant.wait_flowing(100, timeout=30)
        log.info(
            "sources taken over %.1f s after a SIGTERM, %.1f s after a kill -9; given back in "
            "%.1f s", took, taken, given,
        )  # fmt: skip
        await plant.stop_sources(*sensors)
        report = await plant.audited(reports=len(SOURCES), timeout=90)
        assert_complete(report, sensors=len(SOURCES))
        after = Order().check(viewer.received, viewer.senders)
        log.info("a viewer saw %d readings again after the kill -9", after.repeated)
        assert not after.backwards, after.backwards[:10]
        assert len(viewer.received) > seen
        assert len(after.last) >= len(SOURCES)
