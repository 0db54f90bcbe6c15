"""How long the lines of a migration job are kept.

Each line of an export becomes an entry (`migration_entry`) holding what the legacy system
knew of one holder: the file number as written, the wrapped fingerprint of their code, their
mobile number and e-mail address, failures and lock. It serves the job's report (which lines
were rejected and why, to be corrected and sent again). Once the job has ended (succeeded,
stopped or failed, or was created and never started) and `RETENTION_STAGING_DAYS` have
passed without it being touched, the job is marked purged (it can no longer be resumed, its
report answers that the lines were purged), the raw lines still held by its chunks are
cleared, then its entries are deleted. The job and its chunks' counts remain: they name no
one, and the cutover figures read them.

What the migration made of the lines (codes, contacts, migration records) is not touched
here: it belongs to the accounts (see migrations/accounts/retention.py).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from migrations.jobs.models import (
    CREATED,
    FAILED,
    STOPPED,
    SUCCEEDED,
    MigrationChunk,
    MigrationEntry,
    MigrationJob,
)
from modern.retention import CLEARED, Purge, Rule

ENDED = (SUCCEEDED, STOPPED, FAILED, CREATED)
job = MigrationJob.__table__
chunk = MigrationChunk.__table__
entry = MigrationEntry.__table__


def _due(purge: Purge) -> ColumnElement[bool]:
    """Jobs ended and untouched for the period, not marked yet."""
    quiet_since = func.coalesce(job.c.finished_at, job.c.updated_at)
    return and_(job.c.purged_at.is_(None), job.c.state.in_(ENDED),
                quiet_since < purge.before(purge.settings.retention_staging_days))


def ended_jobs(purge: Purge) -> int:
    """Marks the jobs past their period and clears the raw lines of their chunks; each job
    in its own transaction, the mark guarded by the same condition (a job resumed meanwhile
    is left alone: starting a job locks its row and refuses a marked one)."""
    with purge.engine.connect() as connection:
        due = list(connection.scalars(select(job.c.id).where(_due(purge)).order_by(job.c.id)))
    if purge.dry_run:
        return len(due)
    marked = 0
    for job_id in due:
        with purge.engine.begin() as connection:
            done = connection.execute(update(job).where(job.c.id == job_id, _due(purge))
                                      .values(purged_at=purge.now)).rowcount
            if done:
                connection.execute(update(chunk).where(chunk.c.job_id == job_id)
                                   .values(payload=None))
                marked += 1
    return marked


def entries(purge: Purge) -> int:
    """Deletes the entries of marked jobs (in a dry run: counts those of the jobs marked or
    due), by ranges of lines of the primary key: each batch finds its rows by the index,
    never by scanning past the rows deleted before it."""
    if purge.dry_run:
        jobs = select(job.c.id).where(job.c.purged_at.is_not(None) | _due(purge))
        with purge.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(entry).where(
                entry.c.job_id.in_(jobs))) or 0)
    with purge.engine.connect() as connection:
        leftovers = list(connection.execute(
            select(entry.c.job_id, func.max(entry.c.line)).where(entry.c.job_id.in_(
                select(job.c.id).where(job.c.purged_at.is_not(None))))
            .group_by(entry.c.job_id).order_by(entry.c.job_id)))
    total = 0
    for job_id, last_line in leftovers:
        for first in range(0, last_line + 1, purge.batch_size):
            with purge.engine.begin() as connection:
                total += int(connection.execute(entry.delete().where(
                    entry.c.job_id == job_id, entry.c.line >= first,
                    entry.c.line < first + purge.batch_size)).rowcount or 0)
    return total


RULES = (
    Rule("migration_job.ended", ended_jobs, action=CLEARED, period="RETENTION_STAGING_DAYS"),
    Rule("migration_entry", entries, period="RETENTION_STAGING_DAYS"),
)
