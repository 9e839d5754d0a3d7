#!/usr/bin/env bash
# The detail screen's long windows (30 d, 1 y) as an operator sees them: a plant whose
# boiler_temp_out has a year of history (raw readings for the last day, 1-minute rollups for
# 30 days, 1-hour rollups for the year, written straight into the tables), `controlroom` in
# tmux, keys sent with send-keys, screens read with capture-pane.
# Run from the repository root with the virtualenv active: docs/screens/capture-history.sh
set -euo pipefail
export CONTROLROOM_PLANT="${CONTROLROOM_PLANT:-docs_history}"
session="controlroom-docs-history"
source "$(dirname "$0")/lib.sh"

python - <<'PY'
import asyncio

from controlroom.config import Settings
from controlroom.db import connect, migrate
from controlroom.db.migrations import drop_plant
from controlroom.db.maintenance import maintain

# A daily cycle and a slow drift, in SQL: sin over the time of day plus a seasonal swing.
WAVE = ("600 + 8 * sin(2 * pi() * extract(epoch FROM {t}) / 86400)"
        " + 6 * sin(2 * pi() * extract(epoch FROM {t}) / (86400 * 91))")


async def main() -> None:
    settings = Settings.from_env()
    await drop_plant(settings)
    await migrate(settings)
    db = await connect(settings)
    try:
        sensor = await db.fetchval("SELECT id FROM sensor WHERE name = 'boiler_temp_out'")
        run = await db.fetchval(
            "INSERT INTO source_run (source, run) VALUES ('docs', 'docs-run') RETURNING id"
        )
        await db.execute(f"""
            INSERT INTO sensor_reading (sensor_id, taken_on, value, run_id, seq)
            SELECT $1, t, {WAVE.format(t="t")}, $2, row_number() OVER (ORDER BY t)
            FROM generate_series(now() - interval '1 day', now(), interval '10 s') t""",
            sensor, run)
        for table, step, span, n in (("reading_1m", "1 minute", "30 days", 60),
                                     ("reading_1h", "1 hour", "365 days", 3600)):
            await db.execute(f"""
                INSERT INTO {table} (sensor_id, n, bucket, low, high, total, first_value,
                                     last_value)
                SELECT $1, {n}, b, v - 1.5, v + 1.5, v * {n}, v, v
                FROM (SELECT date_bin('{step}', t, timestamptz '2000-01-01 00:00+00') AS b,
                             {WAVE.format(t="t")} AS v
                      FROM generate_series(now() - interval '{span}', now(),
                                           interval '{step}') t) w""", sensor)
        await maintain(db)
    finally:
        await db.close()


asyncio.run(main())
PY
tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -c "$root" -s "$session" -x 100 -y 30 \
    "$py -m controlroom.cli --operator ann --log-dir $logs; echo '[controlroom exited]'; sleep 600"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT

wait_for "boiler_temp_out" 60
keys /; sleep 0.3; keys boiler_temp; sleep 0.3; keys Enter; sleep 0.5
keys Enter; wait_for "stored readings from PostgreSQL" 20
keys 6; wait_for "30 d:" 20; sleep 1; shot detail-30d
keys 7; wait_for "1 y:" 20; sleep 1; shot detail-1y
keys Escape; sleep 0.3; keys q
