-- The plant's tables. Applied inside the plant's own schema (search_path), once.

CREATE TABLE sensor (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 64),
    serial_no       text NOT NULL DEFAULT '',
    unit_type       text NOT NULL DEFAULT '',
    min_safe_value  double precision,
    max_safe_value  double precision,
    period_s        double precision NOT NULL DEFAULT 1.0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per run of a source process (a sensor or a gateway); readings point at it so the
-- audit can check each sensor's seq numbers per run without storing a 16-byte id per reading.
CREATE TABLE source_run (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    run         text NOT NULL UNIQUE,
    first_seen  timestamptz NOT NULL DEFAULT now()
);

-- What a sensor said it had confirmed when it left (its goodbye): the audit's upper bound.
CREATE TABLE run_report (
    sensor_id   integer NOT NULL REFERENCES sensor (id),
    run_id      integer NOT NULL REFERENCES source_run (id),
    last_seq    bigint NOT NULL,
    dropped     bigint NOT NULL DEFAULT 0,
    ended_at    timestamptz NOT NULL,
    PRIMARY KEY (sensor_id, run_id)
);

-- No surrogate key and no foreign key: at 100,000 rows/s each costs PostgreSQL a large share
-- of its work per row. The primary key serves idempotency (a redelivered reading is not
-- stored twice) and history queries (one sensor, a time window).
CREATE TABLE sensor_reading (
    sensor_id   integer NOT NULL,
    taken_on    timestamptz NOT NULL,
    value       double precision NOT NULL,
    run_id      integer NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (sensor_id, taken_on)
);
CREATE INDEX sensor_reading_taken_on ON sensor_reading USING brin (taken_on);

CREATE TABLE alarm (
    id          text PRIMARY KEY,
    sensor_id   integer NOT NULL REFERENCES sensor (id),
    kind        text NOT NULL CHECK (kind IN ('HIGH', 'LOW')),
    raised_at   timestamptz NOT NULL,
    value       double precision NOT NULL,
    limit_value double precision NOT NULL,
    peak        double precision NOT NULL,
    cleared_at  timestamptz,
    acked_at    timestamptz,
    acked_by    text
);
CREATE INDEX alarm_open ON alarm (raised_at) WHERE cleared_at IS NULL OR acked_at IS NULL;
CREATE INDEX alarm_sensor ON alarm (sensor_id, raised_at);

CREATE TABLE action_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    operator    text NOT NULL,
    action      text NOT NULL,
    sensor      text,
    detail      jsonb NOT NULL DEFAULT '{}',
    -- A redelivered action is the same action: it is logged once.
    UNIQUE (at, operator, action)
);
