#!/usr/bin/env bash
# Re-make the text captures in docs/screens/ the way an operator meets the control room:
# `controlroom up` in a terminal (tmux), keys sent with send-keys, screens read with capture-pane.
# Uses the CONTROLROOM_* environment (broker, database); the plant is "docs" unless set.
# Run from the repository root with the virtualenv active: docs/screens/capture.sh
set -euo pipefail
export CONTROLROOM_PLANT="${CONTROLROOM_PLANT:-docs}"
session="controlroom-docs"
source "$(dirname "$0")/lib.sh"

tmux kill-session -t "$session" 2>/dev/null || true
python - <<'PY'   # start from an empty plant: the captures show only what this run did
import asyncio

import aio_pika

from controlroom.config import Settings
from controlroom.db.migrations import drop_plant
from controlroom.broker.topology import Topology


async def main() -> None:
    settings = Settings.from_env()
    await drop_plant(settings)
    topology = Topology.of(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in (topology.requests_queue, topology.persist_queue, topology.dead_queue):
            await channel.queue_delete(queue)


asyncio.run(main())
PY
tmux new-session -d -c "$root" -s "$session" -x 80 -y 24 \
    "$py -m controlroom.cli up --operator ann --log-dir $logs; echo '[controlroom exited]'; sleep 600"
pumps=""
trap 'tmux kill-session -t "$session" 2>/dev/null || true; [ -n "$pumps" ] && kill "$pumps" 2>/dev/null || true' EXIT

wait_for "turbine_temp_out" 60
wait_for "database ● up" 30
sleep 8                                         # sparklines fill up
shot main-80x24

keys n; wait_for "Start a sensor" 10
keys BTab; sleep 0.3; keys Enter; sleep 0.5      # open the preset list
keys Up Up Enter; sleep 0.5                     # a preset fills the form
for _ in 1 2 3 4 5 6; do keys Tab; sleep 0.1; done   # to the step field
keys C-u; sleep 0.2; keys -l -- "-2"; sleep 0.5   # a bad step is refused at once
shot spawn-form-error
keys Escape; sleep 0.6                   # a lone ESC needs a moment to be told from alt+key
keys n; wait_for "Start a sensor" 10     # a custom sensor that runs hot around its limit
for value in feed_pump_temp FP-100 C 60 90 2 2 50 75; do
    keys -l "$value"; sleep 0.4; keys Tab; sleep 0.4
done
sleep 0.5; shot spawn-form-custom
keys C-s; wait_for "started sensor" 10; sleep 1
shot spawned

wait_for "NOT ACKED" 120
sleep 1; shot alarm-unacked
keys Tab; sleep 0.8                      # to the alarm panel
keys a; wait_for "acked by ann" 10; sleep 0.5
shot alarm-acked
keys BTab; sleep 0.3

keys Home Enter; wait_for "stored readings from PostgreSQL" 20; sleep 1.5
shot detail-1min
keys 2; wait_for "15 min:" 20; sleep 1.5
shot detail-15min
keys Escape; sleep 0.6

keys "/"; sleep 0.3; keys -l "pressure"; sleep 0.5
shot filter
keys Escape; sleep 0.6                   # a lone ESC needs a moment to be told from alt+key

keys "?"; wait_for "Main screen" 5; sleep 0.3
shot help
keys Escape; sleep 0.6                   # a lone ESC needs a moment to be told from alt+key

keys q; wait_for "Stop them before quitting" 5
shot quit-dialog
keys y; wait_for "controlroom exited" 60
shot after-quit
tmux kill-session -t "$session"

# 200 more sensors (one gateway at 10 Hz) on a bigger terminal: the table scrolls.
tmux new-session -d -c "$root" -s "$session" -x 120 -y 40 \
    "$py -m controlroom.cli up --operator ann --log-dir $logs; echo '[controlroom exited]'; sleep 600"
wait_for "database ● up" 60
"$py" -m workers.cli sensors --count 200 --freq 10 --prefix pump --min 40 --max 60 \
    --safe-min 35 --safe-max 65 > "$logs/pumps.log" 2>&1 &
pumps=$!
wait_for "pump-001" 60; sleep 6
shot many-120x40
keys End; sleep 1
shot many-120x40-end
kill -TERM "$pumps"; wait "$pumps" || true      # the gateway says goodbye: its sensors go OFFLINE
wait_for "OFFLINE" 30; sleep 1
shot many-120x40-offline
keys q; wait_for "controlroom exited" 60
tmux kill-session -t "$session"

# Neither broker nor database reachable: the header says so, and the UI keeps trying.
tmux new-session -d -c "$root" -s "$session" -x 80 -y 24 \
    "$py -m controlroom.cli --amqp-url amqp://guest:guest@127.0.0.1:1/ --database-url postgresql://postgres@127.0.0.1:1/controlroom --log-dir $logs; sleep 600"
wait_for "DOWN, reconnecting" 30; wait_for "database ✕ DOWN" 30; sleep 1
shot outage
keys q; sleep 1
