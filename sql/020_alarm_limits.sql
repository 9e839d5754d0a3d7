-- Alarm definitions per sensor (ISA-18.2): up to four limits, LL and L below, H and HH above,
-- each with its own priority, deadband (in the sensor's unit) and on/off delays (a value that
-- hovers at a limit must stay beyond it for on_delay_s to alarm, and back inside for
-- off_delay_s to clear). The order LL < L < H < HH spans rows: controlroom.plant.alarm_limits
-- checks it (check_limits), as every editor of these rows must.
CREATE TABLE alarm_limit (
    -- The definitions belong to the sensor: they go with it.
    sensor_id   integer NOT NULL REFERENCES sensor (id) ON DELETE CASCADE,
    level       text NOT NULL CHECK (level IN ('LL', 'L', 'H', 'HH')),
    value       double precision NOT NULL CHECK (value > '-Infinity' AND value < 'Infinity'),
    priority    text NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    deadband    double precision NOT NULL DEFAULT 0 CHECK (deadband >= 0 AND deadband < 'Infinity'),
    on_delay_s  double precision NOT NULL DEFAULT 0 CHECK (on_delay_s BETWEEN 0 AND 3600),
    off_delay_s double precision NOT NULL DEFAULT 0 CHECK (off_delay_s BETWEEN 0 AND 3600),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, level)
);

-- Seeded from the safe ranges known now (the reference plant's, and any sensor already
-- announced): L and H at the safe range, priority high; LL and HH a tenth of the range
-- beyond it, critical. Deadband: 2% of the range, as the safe-range rule has always used.
INSERT INTO alarm_limit (sensor_id, level, value, priority, deadband)
SELECT s.id, l.level, l.value, l.priority, (s.max_safe_value - s.min_safe_value) * 0.02
FROM sensor s
CROSS JOIN LATERAL (VALUES
    ('LL', s.min_safe_value - (s.max_safe_value - s.min_safe_value) * 0.1, 'critical'),
    ('L',  s.min_safe_value, 'high'),
    ('H',  s.max_safe_value, 'high'),
    ('HH', s.max_safe_value + (s.max_safe_value - s.min_safe_value) * 0.1, 'critical')
) AS l (level, value, priority)
WHERE s.min_safe_value IS NOT NULL AND s.max_safe_value IS NOT NULL
  AND s.min_safe_value < s.max_safe_value
ON CONFLICT DO NOTHING;
