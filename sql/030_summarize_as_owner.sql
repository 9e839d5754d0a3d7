-- The BRIN summaries each rollup refresh brings up to date (controlroom.db.rollups) may only be
-- made by the owner of the index, while the refresh runs as the datamanager role, which must not
-- own the schema (it could alter it). So the owner lends exactly this: a function that runs as
-- its owner (SECURITY DEFINER), with the plant's search path fixed at creation, and that does
-- nothing but summarize the new ranges of the readings' and the 1-minute rollups' partitions.
CREATE FUNCTION summarize_new_ranges() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT coalesce(sum(brin_summarize_new_values(i.inhrelid::regclass)), 0)::bigint
    FROM pg_inherits i
    WHERE i.inhparent IN (to_regclass('sensor_reading_taken_on'), to_regclass('reading_1m_bucket'))
$$;
REVOKE ALL ON FUNCTION summarize_new_ranges() FROM PUBLIC;
