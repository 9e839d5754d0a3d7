"""`controlroom up`: the whole plant as a child process, the control room in front of it.

`up` runs `db init`, starts `controlroom-worker plant` (with `--exit-with-parent`, so a closed
terminal leaves no orphaned plant), opens the UI and stops the plant when the UI quits, however
it quits. Logs go to files (the terminal is the UI's): LOG_DIR/db-init.log, LOG_DIR/plant.log
and LOG_DIR/plant/ for the plant's own children.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from controlroom.commandline import EXIT_USAGE
from controlroom.config import DEFAULT_BRIDGE_PORT, Settings
from controlroom.processes import ProcessGroup

PROG = "controlroom up"
DB_INIT_TIMEOUT_S = 60.0


def up(
    settings: Settings,
    log_dir: Path,
    run_ui: Callable[[str | None], int],
    *,
    bridge_port: int | None = DEFAULT_BRIDGE_PORT,
) -> int:
    """Start the plant, run `run_ui(browser_url)`, stop the plant; the UI's exit status."""
    plant = ProcessGroup(settings, log_dir)
    init = plant.start("db-init", ["db", "init"])
    try:
        status = init.process.wait(DB_INIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        init.kill()
        status = -1
    if status != 0:
        sys.stderr.write(
            f"{PROG}: error: database set-up failed: {init.last_log_line()} (log {init.log_path})\n"
        )
        return EXIT_USAGE
    plant_args = ["plant", "--exit-with-parent", "--log-dir", str(log_dir / "plant")]
    if bridge_port is None:
        plant_args.append("--no-bridge")
    else:
        plant_args += ["--bridge-port", str(bridge_port)]
    child = plant.start("plant", plant_args)
    print(f"{PROG}: plant started (pid {child.pid}); log {child.log_path}", file=sys.stderr)
    try:
        return run_ui(None if bridge_port is None else f"http://127.0.0.1:{bridge_port}/")
    finally:
        print(f"{PROG}: stopping the plant…", file=sys.stderr)
        plant.stop_all()
        if child.returncode not in (0, None):
            print(
                f"{PROG}: the plant ended with status {child.returncode}; log {child.log_path}",
                file=sys.stderr,
            )
