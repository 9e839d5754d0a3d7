-- The alarm core (issue 14): alarms of every level with their priority and their point's hold,
-- comments on alarms, holds per alarm point, and who changed a sensor's definitions and why.

-- An alarm is one activation of a point: its level (LL, L, H, HH, ROC, SILENT) and priority.
-- Silence is neither HIGH nor LOW: its kind is NORMAL.
ALTER TABLE alarm DROP CONSTRAINT alarm_kind_check;
ALTER TABLE alarm ADD CONSTRAINT alarm_kind_check CHECK (kind IN ('HIGH', 'LOW', 'NORMAL'));
ALTER TABLE alarm
    ADD COLUMN level text CHECK (level IN ('LL', 'L', 'H', 'HH', 'ROC', 'SILENT')),
    ADD COLUMN priority text NOT NULL DEFAULT 'high'
        CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    -- The point's hold as the alarm last carried it (controlroom.plant.alarms.Hold): the
    -- newest (hold_at) wins on every upsert.
    ADD COLUMN hold_kind text CHECK (hold_kind IN ('shelved', 'suppressed by design',
                                                   'out of service')),
    ADD COLUMN hold_at timestamptz,
    ADD COLUMN hold_by text,
    ADD COLUMN hold_reason text,
    ADD COLUMN hold_until timestamptz;
UPDATE alarm SET level = CASE kind WHEN 'HIGH' THEN 'H' ELSE 'L' END WHERE level IS NULL;

-- Still an operator's business: the rule of controlroom.plant.alarms.Alarm.open, in SQL (a
-- test holds the two together). Active; or held (a one-shot shelving ends with the alarm);
-- or not acknowledged since it last came back from a hold, unless it cleared while held.
ALTER TABLE alarm ADD COLUMN open boolean GENERATED ALWAYS AS (
    cleared_at IS NULL
    OR (hold_kind IS NOT NULL AND (hold_until IS NOT NULL OR hold_kind <> 'shelved'))
    OR (hold_kind IS NULL
        AND NOT coalesce(hold_at >= cleared_at, false)
        AND (acked_at IS NULL OR coalesce(acked_at < hold_at, false)))
) STORED;
DROP INDEX alarm_open;
CREATE INDEX alarm_open ON alarm (raised_at) WHERE open;

CREATE TABLE alarm_comment (
    alarm_id    text NOT NULL REFERENCES alarm (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    by          text NOT NULL,
    text        text NOT NULL,
    PRIMARY KEY (alarm_id, at, by, text)
);

-- Each alarm point's latest hold or release (kind NULL): the newest (at) wins.
CREATE TABLE alarm_hold (
    sensor_id   integer NOT NULL REFERENCES sensor (id) ON DELETE CASCADE,
    level       text NOT NULL CHECK (level IN ('LL', 'L', 'H', 'HH', 'ROC', 'SILENT')),
    kind        text CHECK (kind IN ('shelved', 'suppressed by design', 'out of service')),
    at          timestamptz NOT NULL,
    by          text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    until       timestamptz CHECK (until IS NULL OR kind = 'shelved'),
    PRIMARY KEY (sensor_id, level)
);

-- Rate of change (units per second, either way) and silence (STALE, OFFLINE) as levels.
ALTER TABLE alarm_limit DROP CONSTRAINT alarm_limit_level_check;
ALTER TABLE alarm_limit ADD CONSTRAINT alarm_limit_level_check
    CHECK (level IN ('LL', 'L', 'H', 'HH', 'ROC', 'SILENT'));
ALTER TABLE alarm_limit ADD CONSTRAINT alarm_limit_rate_check CHECK (level <> 'ROC' OR value > 0);

-- The latest change of a sensor's definitions: who, why, when. A sensor with a row here has
-- exactly the limits stored (none at all, if an operator removed them); one without has the
-- seed's, or none stored and its safe range's (controlroom.plant.alarm_limits.default_limits).
CREATE TABLE alarm_limit_change (
    sensor_id   integer PRIMARY KEY REFERENCES sensor (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    by          text NOT NULL,
    reason      text NOT NULL
);
