#!/usr/bin/env bash
# The alarm screens as an operator meets them: a plant whose sensors are beyond limits of every
# priority (critical, high, medium, low), `controlroom` in tmux, keys sent with send-keys,
# screens read with capture-pane: the alarm panel, the shelve dialog and the shelved list, the
# alarm history, the KPI screen (a chattering sensor makes a flood). (The bell is tested, BEL by
# BEL on a terminal, in tests/tui/test_bell.py.)
# Uses the CONTROLROOM_* environment (broker, database); the plant is "docs_alarms" unless set.
# Run from the repository root with the virtualenv active: docs/screens/capture-alarms.sh
set -euo pipefail
export CONTROLROOM_PLANT="${CONTROLROOM_PLANT:-docs_alarms}"
export TZ=UTC
session="controlroom-docs-alarms"
source "$(dirname "$0")/lib.sh"
pids=()
worker() { "$py" -m workers.cli "$@" > "$logs/$1-${#pids[@]}.log" 2>&1 & pids+=($!); }
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

tmux kill-session -t "$session" 2>/dev/null || true
"$py" - <<'PY'   # start from an empty plant: the captures show only what this run did
import asyncio

import aio_pika

from controlroom.broker.topology import Topology
from controlroom.config import Settings
from controlroom.db import migrate
from controlroom.db.migrations import drop_plant


async def main() -> None:
    settings = Settings.from_env()
    await drop_plant(settings)
    await migrate(settings)
    topology = Topology.of(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in (topology.requests_queue, topology.persist_queue, topology.dead_queue):
            await channel.queue_delete(queue)


asyncio.run(main())
PY
worker coordinator
worker datamanager
worker sensor --name furnace_temp --unit C --min 10 --max 11 --step 0.1 --freq 2 \
    --safe-min 0 --safe-max 5
worker sensor --name drum_level --unit m --min 6 --max 6.3 --step 0.05 --freq 2 \
    --safe-min 0 --safe-max 10
worker sensor --name stack_o2 --unit % --min 3 --max 3.2 --step 0.05 --freq 2 \
    --safe-min 0 --safe-max 10
sleep 3
"$py" - <<'PY'   # limits of every priority, through the feed, as the limits form sends them
import asyncio

from controlroom.broker.feed import ViewerFeed
from controlroom.config import Settings
from controlroom.plant.alarm_limits import AlarmLimit, Level, Priority


async def main() -> None:
    feed = ViewerFeed(Settings.from_env(), "docs", lambda message: None)
    await feed.start()
    try:
        await feed.change_limits(
            "furnace_temp",
            [AlarmLimit("furnace_temp", Level.H, 5.0, Priority.HIGH, 0.1),
             AlarmLimit("furnace_temp", Level.HH, 8.0, Priority.CRITICAL, 0.1)],
            "ann", "docs: a high and a critical alarm")
        await feed.change_limits(
            "drum_level", [AlarmLimit("drum_level", Level.H, 5.0, Priority.MEDIUM, 0.1)],
            "ann", "docs: a medium alarm")
        await feed.change_limits(
            "stack_o2", [AlarmLimit("stack_o2", Level.H, 2.0, Priority.LOW, 0.05)],
            "ann", "docs: a low alarm")
    finally:
        await feed.close()


asyncio.run(main())
PY

tmux new-session -d -c "$root" -s "$session" -x 110 -y 30 \
    "$py -m controlroom.cli --operator ann --log-dir $logs; echo '[controlroom exited]'; sleep 600"
wait_for "database ● up" 60
wait_for "stack_o2" 60
wait_for "4 LOW" 60; wait_for "3 MED" 30; wait_for "1 CRIT" 30; sleep 2
shot alarm-priorities

keys Tab; sleep 0.5                           # to the alarm panel: the top row is critical
keys a; wait_for "acked by ann" 10; sleep 1
shot alarm-acked-critical
keys Down s; wait_for "Shelve" 10; sleep 0.5
keys -l "ignition test, back after it"; sleep 0.5
shot shelve-dialog
keys C-s; wait_for "shelved" 10; sleep 1
keys S; wait_for "Shelved alarms" 10; sleep 1
shot shelved-list
keys Escape; sleep 0.6
keys e; wait_for "Alarm limits of" 10; sleep 1
shot limits-form
keys Escape; sleep 0.6

keys h; wait_for "Alarm history" 10; sleep 1.5
shot alarm-history
keys Escape; sleep 0.6

worker sensor --name burner_flame --unit % --min 4 --max 6 --step 1.5 --freq 5 \
    --safe-min 0 --safe-max 5                 # chatters around its H limit: a flood soon
wait_for "FLOOD" 90; sleep 1
keys k; wait_for "Alarm rate" 10; sleep 1.5
shot kpi
keys Escape; sleep 0.6
kill -TERM "${pids[-1]}"
keys q; wait_for "controlroom exited" 30
