"""Backup and restore of one plant as the README documents it: pg_dump of its schema, then
pg_restore into a fresh database; the restored plant audits clean, keeps its partitions and
rollups, and takes new readings and maintenance."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from controlroom.clock import datetime_to_us
from controlroom.config import Settings
from controlroom.db import connect
from controlroom.db.audit import audit
from controlroom.db.connection import quote_ident
from controlroom.db.maintenance import maintain
from controlroom.db.partitions import partitions
from controlroom.db.writer import BatchWriter
from controlroom.plant.readings import Frame
from controlroom.plant.records import RunReport
from controlroom.wire.envelopes import PersistBatch

COUNTS = """
SELECT (SELECT count(*) FROM sensor_reading) AS readings,
       (SELECT count(*) FROM reading_1m) AS minutes,
       (SELECT count(*) FROM reading_1h) AS hours,
       (SELECT count(*) FROM run_report) AS reports
"""


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def store_a_run(db: asyncpg.Connection, run: str, minutes_ago: int, count: int) -> None:
    """A sensor run of `count` readings a second apart, and its goodbye."""
    writer = BatchWriter(db)
    await writer.prepare()
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    seqs = list(range(1, 1 + count))
    times = [datetime_to_us(start + timedelta(seconds=s)) for s in seqs]
    frame = Frame("bk", run, ["bk_1"] * count, seqs, times, [s * 0.1 for s in seqs])
    ended = datetime_to_us(datetime.now(UTC))
    report = RunReport(
        sensor="bk_1", source="bk", run=run, last_seq=count, dropped=0, ended_at=ended
    )
    await writer.write([PersistBatch(frames=[frame], runs=[report])])


async def test_a_plant_restored_into_a_fresh_database_audits_clean(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await store_a_run(db, "bk-run-1", 30, 300)
    await maintain(db)  # rollups made
    before = dict(await db.fetchrow(COUNTS))
    assert before["readings"] == 300 and before["minutes"] > 0

    dump = tmp_path / f"{settings.plant}.dump"
    await asyncio.to_thread(
        subprocess.run,
        ["pg_dump", "--format=custom", f"--schema={settings.plant}", f"--file={dump}",
         settings.database_url],
        check=True,
        timeout=120,
    )  # fmt: skip
    fresh = f"controlroom_restore_{secrets.token_hex(4)}"
    await db.execute(f"CREATE DATABASE {quote_ident(fresh)}")
    restored = replace(settings, database_url=with_database(settings.database_url, fresh))
    try:
        await asyncio.to_thread(
            subprocess.run,
            ["pg_restore", "--exit-on-error", f"--dbname={restored.database_url}", str(dump)],
            check=True,
            timeout=120,
        )
        copy = await connect(restored)
        try:
            assert dict(await copy.fetchrow(COUNTS)) == before
            report = await audit(copy)
            assert report.clean and report.stored == 300
            assert await partitions(copy) == await partitions(db)
            # The restored plant goes on: new readings, maintenance, the audit still clean.
            await store_a_run(copy, "bk-run-2", 10, 50)
            again = await maintain(copy)
            assert again.ran
            assert (await audit(copy)).stored == 350
            assert (await audit(copy)).clean
        finally:
            await copy.close()
    finally:
        await db.execute(f"DROP DATABASE IF EXISTS {quote_ident(fresh)} WITH (FORCE)")
