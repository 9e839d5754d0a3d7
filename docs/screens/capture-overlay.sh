#!/usr/bin/env bash
# The detail screen with four sensors laid over each other, during the boiler-overpressure
# scenario (played 4x): a plant of its own (coordinator, datamanager, the scenario), then
# `controlroom` in tmux, keys sent with send-keys, screens read with capture-pane.
# Run from the repository root with the virtualenv active: docs/screens/capture-overlay.sh
set -euo pipefail
export CONTROLROOM_PLANT="${CONTROLROOM_PLANT:-docs_overlay}"
session="controlroom-docs-overlay"
source "$(dirname "$0")/lib.sh"

python - <<'PY'   # an empty plant: the capture shows only this run
import asyncio

from controlroom.config import Settings
from controlroom.db import migrate
from controlroom.db.migrations import drop_plant


async def main() -> None:
    settings = Settings.from_env()
    await drop_plant(settings)
    await migrate(settings)


asyncio.run(main())
PY
pids=()
"$py" -m workers.cli coordinator > "$logs/coordinator.log" 2>&1 & pids+=($!)
"$py" -m workers.cli datamanager > "$logs/datamanager.log" 2>&1 & pids+=($!)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 3
"$py" -m workers.cli scenario run boiler-overpressure --speed 4 --log-dir "$logs" \
    > "$logs/scenario.log" 2>&1 & pids+=($!)

tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -c "$root" -s "$session" -x 120 -y 34 \
    "$py -m controlroom.cli --operator ann --log-dir $logs; echo '[controlroom exited]'; sleep 600"
wait_for "boiler_relief_valve" 60
keys /; sleep 0.3; keys boiler_pres; sleep 0.3; keys Enter; sleep 0.5
keys Enter; wait_for "stored readings from PostgreSQL" 20
for sensor in boiler_temp boiler_relief turbine_pres; do
    keys +; wait_for "Lay a sensor over" 10; keys "$sensor"; sleep 0.3; keys Enter; sleep 0.5
done
sleep 36   # 2.4 scenario minutes in: the pressure, the temperature and the valve have risen
shot detail-overlay-own
keys m; sleep 1.5; shot detail-overlay-normalised
