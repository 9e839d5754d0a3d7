"""Bad flags and config at every worker's command line: one line on stderr, exit 2, no traceback.

The cases run a few at a time (all thirty at once would ask a busy two-core machine for
thirty interpreters' start-up together, and the slowest would miss any fair deadline).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import TEST_AMQP_URL, TEST_DATABASE_URL

SENSOR = ["sensor", "--name", "s1"]
PARALLEL = 4
TIMEOUT_S = 60.0

# (command line, a word the one line must contain)
CASES: list[tuple[list[str], str]] = [
    ([*SENSOR, "--min", "5", "--max", "1"], "--min"),
    ([*SENSOR, "--freq", "0"], "--freq"),
    ([*SENSOR, "--freq", "-3"], "--freq"),
    ([*SENSOR, "--min", "nan"], "finite"),
    ([*SENSOR, "--step", "0"], "--step"),
    ([*SENSOR, "--buffer", "0"], "--buffer"),
    ([*SENSOR, "--safe-min", "9", "--safe-max", "1"], "--safe-min"),
    (["sensor", "--name", ""], "name"),
    (["sensor", "--name", "x" * 65], "name"),
    (["sensor", "--name", "bell\x07"], "name"),
    (["sensor"], "--name"),
    ([*SENSOR, "--frequency", "3"], "unrecognized"),
    ([*SENSOR, "--freq", "fast"], "--freq"),
    ([*SENSOR, "--fault", "spike@30s"], "--fault"),
    ([*SENSOR, "--fault", "drift@soon:+1/s"], "--fault"),
    ([*SENSOR, "--fault", "other=stuck@1s"], "--fault"),
    ([*SENSOR, "--fault-epoch", "-1"], "--fault-epoch"),
    (["sensors", "--count", "2", "--fault", "nobody=stuck@1s"], "--fault"),
    (["sensors", "--count", "2", "--fault", "dropout@1s"], "--fault"),
    (["sensors", "--count", "0"], "--count"),
    (["sensors", "--scenario", "nowhere"], "nowhere"),
    (["scenario", "run", "nowhere"], "nowhere"),
    (["scenario", "run", "stuck-sensor", "--speed", "0"], "--speed"),
    (["scenario", "walk"], "invalid choice"),
    (["sensors", "--count", "3", "--freq", "0"], "--freq"),
    (["sensors", "--preset", "nowhere"], "--preset"),
    ([*SENSOR, "--amqp-url", "amqp://guest:guest@127.0.0.1:1/"], "broker"),
    ([*SENSOR, "--amqp-url", "http://127.0.0.1:5672/"], "amqp://"),
    ([*SENSOR, "--amqp-url", "amqp://guest:guest@127.0.0.1:99999/"], "malformed"),
    ([*SENSOR, "--amqp-url", "amqp:///"], "host"),
    ([*SENSOR, "--amqp-url", "amqp://guest:guest@no-such-host.invalid/"], "broker"),
    (["coordinator", "--amqp-url", "amqp://guest:guest@127.0.0.1:1/"], "broker"),
    (["coordinator", "--persist-interval", "-1"], "--persist-interval"),
    (["datamanager", "--database-url", "postgresql://postgres@127.0.0.1:1/x"], "database"),
    (["datamanager", "--database-url", "mysql://localhost/x"], "postgresql://"),
    (["datamanager", "--writers", "0"], "--writers"),
    (["audit", "--since", "the day before yesterday"], "--since"),
    ([*SENSOR, "--plant", "Bad Plant!"], "plant"),
    ([*SENSOR, "--metrics-port", "70000"], "--metrics-port"),
    (["coordinator", "--metrics-host", "no-such-host.invalid", "--metrics-port", "9"], "metrics"),
]


def run_case(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def test_bad_flags_and_config() -> None:
    env = os.environ | {
        "CONTROLROOM_AMQP_URL": TEST_AMQP_URL,
        "CONTROLROOM_DATABASE_URL": TEST_DATABASE_URL,
        "CONTROLROOM_PLANT": "t_badflags",
    }
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        done = list(pool.map(lambda case: run_case(case[0], env), CASES))
    failures = []
    for (args, word), process in zip(CASES, done, strict=True):
        lines = process.stderr.splitlines()
        verdict = (
            process.returncode == 2
            and len(lines) == 1
            and "Traceback" not in process.stderr
            and word.lower() in lines[0].lower()
            and not process.stdout
        )
        if not verdict:
            failures.append(f"{args!r}: exit {process.returncode}, stderr {process.stderr!r}")
    assert not failures, "\n".join(failures)
