"""`controlroom-worker scenario run FILE|NAME | list`: incidents to train on.

`run` plays a scenario: its sensors in one gateway process (`sensors --scenario`, started
through `controlroom.processes`, so one clock drives the whole incident), a progress line
while it lasts, and the gateway stopped at the end or on Ctrl-C / SIGTERM (its sensors say
goodbye). The scenario's time 0 is LEAD_S after the start, so every sensor is reading before
the first fault. `--speed N` plays it N times faster (tests, rehearsals).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Literal, TextIO

from controlroom.commandline import EXIT_INTERRUPTED
from controlroom.config import Settings
from controlroom.errors import ControlroomError
from controlroom.processes import ProcessGroup, WorkerProcess
from controlroom.simulation.scenario import Scenario, load, shipped
from controlroom.waiting import within
from workers.lifecycle import stop_on_signals

HELP = "incidents to train on: `scenario run FILE|NAME` plays one, `scenario list` names them"
LEAD_S = 3.0  # from launching the gateway to the scenario's time 0
TICK_S = 0.5
Outcome = Literal["done", "interrupted", "stopped"]


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    running = actions.add_parser(
        "run",
        help="play a scenario: start its sensors, fault them on time, stop them at the end",
        description="Play a scenario (a shipped one by name, or a TOML file): its sensors "
        "start in one gateway, their faults come on time, and they stop at the end or on "
        "Ctrl-C.",
    )
    running.add_argument("scenario", metavar="FILE|NAME", help="a file, or a name `list` gives")
    running.add_argument(
        "--speed", type=float, default=1.0, help="play it this many times faster (default 1)"
    )
    running.add_argument(
        "--log-dir",
        type=Path,
        default=Path("logs"),
        help="where the gateway's log goes (default ./logs)",
    )
    actions.add_parser("list", help="the shipped scenarios, one line each")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "list":
        for scenario in shipped():
            print(f"{scenario.name:<22} {clock(scenario.duration_s):>6}  {scenario.description}")
        return 0
    return await play(load(args.scenario), args.speed, settings, args.log_dir)


async def play(written: Scenario, speed: float, settings: Settings, log_dir: Path) -> int:
    """Start, follow and stop one scenario at `speed`; its exit status."""
    scenario = written.scaled(speed)
    epoch = time.time() + LEAD_S
    group = ProcessGroup(settings, log_dir)
    gateway = group.start(
        scenario.source,
        [
            "sensors",
            "--scenario",
            scenario.origin,
            "--speed",
            repr(scenario.speed),
            "--fault-epoch",
            repr(epoch),
        ],
    )
    progress = Progress(written, speed, epoch, sys.stdout)
    with stop_on_signals() as stopping:
        try:
            outcome = await _follow(gateway, scenario, epoch, progress, stopping)
        finally:
            status = await gateway.stopped()
    progress.done(time.time(), outcome)
    if outcome == "interrupted":
        return EXIT_INTERRUPTED
    return 0 if status == 0 else 1


async def _follow(
    gateway: WorkerProcess,
    scenario: Scenario,
    epoch: float,
    progress: Progress,
    stopping: asyncio.Event,
) -> Outcome:
    """Until the end, a stop asked for, or its sensors all stopped (by an operator); a
    gateway that dies of an error is an error."""
    end = epoch + scenario.duration_s
    while (now := time.time()) < end:
        if gateway.returncode == 0:  # its sensors were all stopped (`x` in a control room)
            return "stopped"
        if not gateway.running():
            progress.clear()
            raise ControlroomError(
                f"the scenario's sensors stopped (status {gateway.returncode}): "
                f"{_last_words(gateway)}"
            )
        progress.show(now)
        with contextlib.suppress(TimeoutError):
            await within(stopping.wait(), min(TICK_S, end - now))
        if stopping.is_set():
            return "interrupted"
    return "done"


def _last_words(gateway: WorkerProcess) -> str:
    """The gateway's own error line (`... error: NAME is running ...`), else its last line."""
    lines = gateway.log_text().strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    return (errors or lines or ["no output"])[-1].strip()


class Progress:
    """The progress line: rewritten in place on a terminal; elsewhere one line per fault as
    it begins (a log stays readable)."""

    def __init__(self, scenario: Scenario, speed: float, epoch: float, stream: TextIO) -> None:
        """`scenario` as written (its own times); played at `speed`."""
        self._scenario = scenario
        self._speed = speed
        self._epoch = epoch
        self._stream = stream
        self._tty = stream.isatty()
        self._moments = scenario.timeline()
        self._told = 0
        self._width = 0
        self._line(
            f"scenario {scenario.name}: {len(scenario.sensors)} sensors, "
            f"{clock(scenario.duration_s)}" + (f" at {speed:g}x" if speed != 1 else ""),
            final=True,
        )

    def elapsed(self, now: float) -> float:
        """Seconds on the scenario's own clock (scaled back when played fast)."""
        return (now - self._epoch) * self._speed

    def show(self, now: float) -> None:
        elapsed = self.elapsed(now)
        begun = [m for m in self._moments if m[0] <= elapsed]
        if not self._tty:
            for at, sensor, fault in self._moments[self._told : len(begun)]:
                self._line(f"{clock(at)} {sensor}: {fault}", final=True)
            self._told = len(begun)
            return
        total = self._scenario.duration_s
        head = "starting…" if elapsed < 0 else f"{clock(elapsed)} / {clock(total)}"
        following = self._moments[len(begun) :]
        upcoming = (
            f"next {clock(following[0][0])} {following[0][1]} {following[0][2]}"
            if following
            else "no more faults"
        )
        self._line(
            f"{self._scenario.name} {head}  faults {len(begun)}/{len(self._moments)}  {upcoming}"
        )

    def clear(self) -> None:
        if self._tty and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._width = 0

    def done(self, now: float, outcome: Outcome) -> None:
        self.clear()
        total = clock(self._scenario.duration_s)
        at = clock(max(0.0, self.elapsed(now)))
        if outcome == "interrupted":
            self._line(f"stopped at {at} of {total}", final=True)
        elif outcome == "stopped":
            self._line(
                f"scenario {self._scenario.name}: its sensors were stopped at {at} of {total}",
                final=True,
            )
        else:
            self._line(
                f"scenario {self._scenario.name} done ({total}); its sensors stopped", final=True
            )

    def _line(self, text: str, *, final: bool = False) -> None:
        if final or not self._tty:
            self.clear()
            self._stream.write(text + "\n")
        else:
            self._stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        self._stream.flush()


def clock(seconds: float) -> str:
    """A scenario time as an operator reads it: 1:30, 12:05, 1:02:03."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
