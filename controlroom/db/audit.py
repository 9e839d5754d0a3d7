"""The audit: per sensor run, the readings a sensor confirmed against what is stored.

A sensor numbers its readings 1, 2, 3... within a run and, when it leaves, reports the last one
the broker confirmed. Every seq from 1 to that number (or to the highest stored, for a run that
never said goodbye) must be stored exactly once. Readings the sensor dropped itself, its buffer
full during a long outage, were never confirmed: they are reported apart and explain gaps.

With `since`, only readings taken since then count, and a run's seqs must resume just after its
last reading stored before the window (seqs rise with taken_on within a run): readings lost at
the start of the window are missing too. A run with no reading before the window started in it,
at seq 1.

Retention drops old partitions whole (controlroom.db.partitions), so the audit covers the
retained window: it starts no earlier than the plant's raw horizon, and a run that had readings
dropped resumes just after the last seq retention dropped (kept in reading_horizon).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

_RUNS = """
WITH stored AS (
    SELECT sensor_id, run_id, count(*) AS stored, count(DISTINCT seq) AS distinct_seqs,
           min(seq) AS first_seq, max(seq) AS last_seq
    FROM sensor_reading
    WHERE $1::timestamptz IS NULL OR taken_on >= $1::timestamptz
    GROUP BY sensor_id, run_id
), runs AS (
    SELECT coalesce(st.sensor_id, rep.sensor_id) AS sensor_id,
           coalesce(st.run_id, rep.run_id) AS run_id,
           coalesce(st.stored, 0) AS stored, coalesce(st.distinct_seqs, 0) AS distinct_seqs,
           st.first_seq, st.last_seq, rep.last_seq AS confirmed_seq,
           coalesce(rep.dropped, 0) AS dropped
    FROM stored st
    FULL JOIN (SELECT * FROM run_report
               WHERE $1::timestamptz IS NULL OR ended_at >= $1::timestamptz) rep
        ON rep.sensor_id = st.sensor_id AND rep.run_id = st.run_id
)
SELECT s.name AS sensor, sr.source, sr.run, runs.*,
       -- With a window: the run's last seq before it (one step down the primary key, usually).
       -- Or the last seq retention dropped of that run.
       CASE WHEN $1::timestamptz IS NOT NULL AND runs.first_seq IS DISTINCT FROM 1 THEN greatest(
           (SELECT b.seq FROM sensor_reading b
            WHERE b.sensor_id = runs.sensor_id AND b.run_id = runs.run_id
              AND b.taken_on < $1::timestamptz
            ORDER BY b.taken_on DESC
            LIMIT 1),
           (SELECT h.last_seq FROM reading_horizon h
            WHERE h.sensor_id = runs.sensor_id AND h.run_id = runs.run_id))
       END AS seq_before
FROM runs
JOIN sensor s ON s.id = runs.sensor_id
JOIN source_run sr ON sr.id = runs.run_id
ORDER BY s.name, sr.first_seen
"""

_GAPS = """
SELECT seq + 1 AS first, next_seq - 1 AS last FROM (
    SELECT seq, lead(seq) OVER (ORDER BY seq) AS next_seq
    FROM sensor_reading
    WHERE sensor_id = $1 AND run_id = $2
      AND ($3::timestamptz IS NULL OR taken_on >= $3::timestamptz)
) t
WHERE next_seq > seq + 1
ORDER BY seq
LIMIT 20
"""


@dataclass(frozen=True, slots=True)
class RunAudit:
    sensor: str
    source: str
    run: str
    stored: int
    duplicates: int
    expected_first: int
    expected_last: int
    missing: int
    dropped: int
    confirmed_seq: int | None
    gaps: tuple[tuple[int, int], ...]

    @property
    def unexplained(self) -> int:
        """Missing readings the sensor did not drop itself: confirmed, then lost."""
        return max(0, self.missing - self.dropped)

    @property
    def clean(self) -> bool:
        return self.unexplained == 0 and self.duplicates == 0


@dataclass(frozen=True, slots=True)
class AuditReport:
    runs: list[RunAudit]
    since: datetime | None = None  # the window the audit covered: readings taken since then
    horizon: datetime | None = None  # readings taken before it were dropped by retention

    @property
    def clean(self) -> bool:
        return all(run.clean for run in self.runs)

    @property
    def stored(self) -> int:
        return sum(run.stored for run in self.runs)

    @property
    def missing(self) -> int:
        return sum(run.unexplained for run in self.runs)

    @property
    def duplicates(self) -> int:
        return sum(run.duplicates for run in self.runs)

    @property
    def dropped(self) -> int:
        return sum(run.dropped for run in self.runs)


async def audit(connection: asyncpg.Connection, since: datetime | None = None) -> AuditReport:
    """Audit the readings taken since `since` and within retention (all retained, without)."""
    horizon = await connection.fetchval("SELECT raw_horizon FROM history_policy")
    if horizon is not None and (since is None or since < horizon):
        since = horizon
    runs = []
    for row in await connection.fetch(_RUNS, since):
        first_seq, last_seq = row["first_seq"], row["last_seq"]
        first = _first_expected(first_seq, row["seq_before"])
        last = max(last_seq or 0, row["confirmed_seq"] or 0)
        expected = max(0, last - first + 1)
        missing = max(0, expected - row["distinct_seqs"])
        gaps: tuple[tuple[int, int], ...] = ()
        if missing and first_seq is None:
            gaps = ((first, last),)
        elif missing:
            found = await connection.fetch(_GAPS, row["sensor_id"], row["run_id"], since)
            gaps = tuple((gap["first"], gap["last"]) for gap in found)
            if first_seq > first:
                gaps = ((first, first_seq - 1), *gaps)
            if last_seq < last:
                gaps = (*gaps, (last_seq + 1, last))
        runs.append(
            RunAudit(
                sensor=row["sensor"],
                source=row["source"],
                run=row["run"],
                stored=row["stored"],
                duplicates=row["stored"] - row["distinct_seqs"],
                expected_first=first,
                expected_last=last,
                missing=missing,
                dropped=row["dropped"],
                confirmed_seq=row["confirmed_seq"],
                gaps=gaps,
            )
        )
    return AuditReport(runs, since, horizon)


def _first_expected(first_stored: int | None, seq_before: int | None) -> int:
    """The first seq a run must have stored: 1, or just after its last one before the window."""
    if seq_before is None:
        return 1
    return min(seq_before + 1, first_stored or seq_before + 1)
