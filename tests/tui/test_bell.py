"""The bell: which alarms ring it, that it repeats until acknowledged or silenced, the setting
that turns it off; and on a real terminal (a pty) that the BEL character reaches it and stops
after the acknowledgement."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from controlroom.config import Settings, add_bell_argument, bell_enabled
from controlroom.errors import ConfigError
from controlroom.plant.alarms import Alarm
from controlroom.plant.sensors import Condition
from controlroom.tui.alarms.bell import Bell, calls
from tests.support import Worker, wait_until
from tests.tui.test_up import Terminal

S = 1_000_000


def alarm(key: str, **changes: object) -> Alarm:
    base = Alarm(key, "hot", Condition.HIGH, 100 * S, 6.0, 5.0, 6.0)
    return msgspec.structs.replace(base, **changes)


def test_a_new_unacknowledged_alarm_rings_at_once_and_repeats_until_acknowledged() -> None:
    bell = Bell()
    first = alarm("a1")
    assert bell.update([first]) and bell.ringing
    assert not bell.update([first]) and bell.ringing  # not new: the repeat rings it
    returned = alarm("a1", cleared_at=110 * S)
    assert not bell.update([returned]) and bell.ringing  # cleared but not acknowledged
    assert not bell.update([alarm("a1", cleared_at=110 * S, acked_at=120 * S)])
    assert not bell.ringing


def test_silence_covers_what_calls_now_and_a_newer_alarm_rings_again() -> None:
    bell = Bell()
    bell.update([alarm("a1")])
    assert bell.silence() == 1 and not bell.ringing
    assert not bell.update([alarm("a1")]) and not bell.ringing  # still silenced
    assert bell.update([alarm("a1"), alarm("a2")]) and bell.ringing
    assert [a.id for a in bell.calling] == ["a2"]


def test_an_acknowledged_alarm_does_not_call() -> None:
    assert calls(alarm("a1"))
    assert not calls(alarm("a1", acked_at=101 * S))
    assert not calls(alarm("a1", cleared_at=101 * S, acked_at=102 * S))


def test_the_bell_turned_off_never_rings() -> None:
    bell = Bell(enabled=False)
    assert not bell.update([alarm("a1")]) and not bell.ringing
    assert [a.id for a in bell.calling] == ["a1"]  # still known (the header says bell off)


def test_the_setting_flag_then_environment_then_on() -> None:
    parser = argparse.ArgumentParser()
    add_bell_argument(parser)
    assert bell_enabled(parser.parse_args([]), {}) is True
    assert bell_enabled(parser.parse_args([]), {"CONTROLROOM_BELL": "off"}) is False
    assert bell_enabled(parser.parse_args([]), {"CONTROLROOM_BELL": "ON"}) is True
    assert bell_enabled(parser.parse_args(["--no-bell"]), {"CONTROLROOM_BELL": "on"}) is False
    with pytest.raises(ConfigError, match="CONTROLROOM_BELL='loud': use on or off"):
        bell_enabled(parser.parse_args([]), {"CONTROLROOM_BELL": "loud"})


# --- on a real terminal --------------------------------------------------------------------

# Operating system commands end in BEL too (a title, a pointer shape): those are not the bell.
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
CLOCK = re.compile(rb"(\d\d):(\d\d):(\d\d) UTC")


def bells(output: bytes) -> int:
    return OSC.sub(b"", output).count(b"\x07")


def clock_s(output: bytes) -> int | None:
    """The latest time the header showed, in seconds of the day."""
    found = CLOCK.findall(output)
    if not found:
        return None
    h, m, s = found[-1]
    return int(h) * 3600 + int(m) * 60 + int(s)


def test_the_bell_reaches_the_terminal_and_stops_after_the_acknowledgement(
    settings: Settings, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    start_worker("coordinator")
    start_worker("datamanager")
    start_worker(
        "sensor", "--name", "hot_probe", "--min", "10", "--max", "11", "--step", "0.1",
        "--freq", "5", "--safe-min", "0", "--safe-max", "5",
    )  # fmt: skip
    terminal = Terminal(columns=110, rows=30)
    env = os.environ | settings.as_env() | {"TERM": "xterm-256color", "TZ": "UTC"}
    env.pop("NO_COLOR", None)
    env.pop("CONTROLROOM_BELL", None)
    argv = ["controlroom.cli", "--operator", "bell-test", "--log-dir", str(tmp_path)]
    process = subprocess.Popen(
        [sys.executable, "-m", *argv],
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until(lambda: b"NOT ACKED" in terminal.output, timeout=60, what="the alarm shown")
        wait_until(lambda: b"turbine_temp_out" in terminal.output, timeout=30, what="every row")
        wait_until(lambda: bells(bytes(terminal.output)) >= 2, timeout=30, what="the bell, twice")
        assert "♪ BELL".encode() in terminal.output
        # The sensor is beyond H (high) and HH (critical): both ring until both are
        # acknowledged, all at once (ctrl+a, confirmed with y).
        terminal.type("\x01")
        wait_until(lambda: b"Acknowledge all" in terminal.output, timeout=30, what="the question")
        asked = len(terminal.output)
        terminal.type("y")
        wait_until(
            lambda: b"0 not acknowledged" in terminal.output[asked:],
            timeout=30,
            what="both acknowledged",
        )
        acked_at = terminal.output.find(b"0 not acknowledged", asked)
        shown = clock_s(bytes(terminal.output))
        assert shown is not None
        # Two repeat periods later by the app's own clock (the header), not one bell more.
        wait_until(
            lambda: (clock_s(bytes(terminal.output)) or 0) >= shown + 7,
            timeout=30,
            what="seven seconds on the header's clock",
        )
        assert bells(bytes(terminal.output[acked_at:])) == 0
        terminal.type("q")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        terminal.close()


async def test_b_silences_the_bell_and_the_header_says_so() -> None:
    from tests.tui.demo import demo_app

    app = demo_app()
    async with app.run_test(size=(110, 24)) as pilot:
        await pilot.pause()
        assert app.rings == 1 and app.header.bell == "ringing"  # two alarms call: one ring
        assert "♪ BELL" in str(app.header.render())
        await pilot.press("b")
        assert app.header.bell == "on" and not app.alarm_bell.ringing
        assert "BELL" not in str(app.header.render())


async def test_no_bell_rings_nothing_and_the_header_says_bell_off() -> None:
    from tests.tui.demo import demo_app

    app = demo_app()
    app.alarm_bell.enabled = False
    async with app.run_test(size=(110, 24)) as pilot:
        await pilot.pause()
        assert app.rings == 0 and "bell off" in str(app.header.render())
