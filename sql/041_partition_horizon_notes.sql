-- Where each sensor run resumes after a raw partition, noted once the partition is closed.
--
-- Retention must record, before a partition goes, each sensor run's last seq in it (the audit's
-- reading_horizon). Read at drop time, that is one probe of the key per sensor into a month-old
-- partition whose pages left memory long ago: 1.2 s for 1,000 sensors here. So `db maintain`
-- notes it while the partition is fresh (an hour after its end, partitions.note_closed), and the
-- drop copies the note. A refresh of a minute inside a noted partition (a late reading landed in
-- it) forgets the note, and the drop reads the partition as before.
CREATE TABLE raw_partition_note (
    upper_bound timestamptz PRIMARY KEY,  -- the partition's end: partitions never overlap
    lower_bound timestamptz,              -- NULL: from MINVALUE (a migrated plant's old table)
    noted_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE raw_partition_horizon (
    upper_bound timestamptz NOT NULL REFERENCES raw_partition_note ON DELETE CASCADE,
    sensor_id   integer NOT NULL,
    run_id      integer NOT NULL,
    last_seq    bigint NOT NULL,
    PRIMARY KEY (upper_bound, sensor_id, run_id)
);
