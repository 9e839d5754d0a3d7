-- Readings partitioned by time, so retention drops whole partitions instead of deleting rows.
--
-- controlroom.db.partitions makes the partitions ahead of time (`controlroom-worker db maintain`,
-- and migrate() after every run of the migrations); the default partition catches a reading
-- no partition covers (far in the past, or before maintenance first ran), and maintenance moves
-- such readings into a partition of their own. An existing plant's readings are not copied: the
-- old table becomes one partition (from MINVALUE to the end of today, UTC), attached with its
-- indexes, so no reading is lost or stored twice; retention drops it whole once all of it is
-- older than the raw retention.

-- The plant's history settings (one row). `controlroom-worker db maintain` flags change them.
CREATE TABLE history_policy (
    only_row            boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    partition_interval  interval NOT NULL DEFAULT '1 day'
                        CHECK (partition_interval >= interval '1 minute'),
    premake             interval NOT NULL DEFAULT '3 days',
    raw_retention       interval NOT NULL DEFAULT '30 days',
    -- Readings taken before this were dropped by retention: the audit starts here.
    raw_horizon         timestamptz
);
INSERT INTO history_policy DEFAULT VALUES;

-- Per sensor run, the last seq retention dropped: where the audit expects that run to resume.
CREATE TABLE reading_horizon (
    sensor_id   integer NOT NULL,
    run_id      integer NOT NULL,
    last_seq    bigint NOT NULL,
    PRIMARY KEY (sensor_id, run_id)
);

ALTER TABLE sensor_reading RENAME TO sensor_reading_legacy;
ALTER INDEX sensor_reading_pkey RENAME TO sensor_reading_legacy_pkey;
ALTER INDEX sensor_reading_taken_on RENAME TO sensor_reading_legacy_taken_on;

CREATE TABLE sensor_reading (
    sensor_id   integer NOT NULL,
    taken_on    timestamptz NOT NULL,
    value       double precision NOT NULL,
    run_id      integer NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (sensor_id, taken_on)
) PARTITION BY RANGE (taken_on);
CREATE INDEX sensor_reading_taken_on ON sensor_reading USING brin (taken_on);
CREATE TABLE sensor_reading_default PARTITION OF sensor_reading DEFAULT;

DO $$
DECLARE
    upper_bound timestamptz;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sensor_reading_legacy) THEN
        DROP TABLE sensor_reading_legacy;
        RETURN;
    END IF;
    SELECT date_bin('1 day', greatest(now(), max(taken_on)), timestamptz '2000-01-01 00:00+00')
           + interval '1 day'
    INTO upper_bound FROM sensor_reading_legacy;
    -- A CHECK that implies the bound spares ATTACH a second scan of the table.
    EXECUTE format(
        'ALTER TABLE sensor_reading_legacy ADD CONSTRAINT sensor_reading_legacy_bound '
        'CHECK (taken_on < %L)', upper_bound);
    EXECUTE format(
        'ALTER TABLE sensor_reading ATTACH PARTITION sensor_reading_legacy '
        'FOR VALUES FROM (MINVALUE) TO (%L)', upper_bound);
    ALTER TABLE sensor_reading_legacy DROP CONSTRAINT sensor_reading_legacy_bound;
END
$$;
