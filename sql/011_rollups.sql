-- Rollups of each sensor's readings at 1 minute and 1 hour, kept long after the raw readings.
--
-- controlroom.db.rollups computes them: a writer notes the minutes its transaction touched in
-- rollup_dirty (no key, so writers never wait on each other); a refresh takes the closed dirty
-- minutes and recomputes them from sensor_reading, then their hours from reading_1m. A
-- recompute is exact whatever the order readings came in and however often they were
-- redelivered, so nothing counts twice. Mean = total / n. Both tables are partitioned by time
-- like sensor_reading and their retention drops whole partitions.

ALTER TABLE history_policy
    ADD COLUMN minute_retention interval NOT NULL DEFAULT '365 days',
    ADD COLUMN hour_retention interval NOT NULL DEFAULT '3650 days';

-- Columns ordered so no byte is padding: a 1-minute row must cost under 2 bytes per reading
-- of a 1 Hz sensor (under 120 bytes with its index entry).
CREATE TABLE reading_1m (
    sensor_id   integer NOT NULL,
    n           integer NOT NULL,
    bucket      timestamptz NOT NULL,
    low         double precision NOT NULL,
    high        double precision NOT NULL,
    total       double precision NOT NULL,
    first_value double precision NOT NULL,
    last_value  double precision NOT NULL,
    PRIMARY KEY (sensor_id, bucket)
) PARTITION BY RANGE (bucket);
CREATE TABLE reading_1m_default PARTITION OF reading_1m DEFAULT;
-- The hours are recomputed from a range of minutes (rows come roughly in time order).
CREATE INDEX reading_1m_bucket ON reading_1m USING brin (bucket);

CREATE TABLE reading_1h (
    sensor_id   integer NOT NULL,
    n           integer NOT NULL,
    bucket      timestamptz NOT NULL,
    low         double precision NOT NULL,
    high        double precision NOT NULL,
    total       double precision NOT NULL,
    first_value double precision NOT NULL,
    last_value  double precision NOT NULL,
    PRIMARY KEY (sensor_id, bucket)
) PARTITION BY RANGE (bucket);
CREATE TABLE reading_1h_default PARTITION OF reading_1h DEFAULT;

CREATE TABLE rollup_dirty (minute timestamptz NOT NULL);

-- A plant that has readings already: every minute of them is to be rolled up.
INSERT INTO rollup_dirty (minute)
SELECT DISTINCT date_bin('1 minute', taken_on, timestamptz '2000-01-01 00:00+00')
FROM sensor_reading;
