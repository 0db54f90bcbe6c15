"""Creating, starting, stopping and resuming jobs; their status and their report; the lease
that tells whether any worker is still on a running job.

State-changing functions flush and never commit: the entry point (CLI command, admin view)
commits. The work itself is done by workers (worker.py), each batch in its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from migrations.export.reader import LINES_PER_CHUNK, Digest, read_chunks
from migrations.export.rows import file_numbers
from migrations.jobs import duplicates
from migrations.jobs.models import (
    APPLIED,
    CREATED,
    FAILED,
    MIGRE,
    PENDING,
    RESUMABLE,
    RUNNING,
    STAGED,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    MigrationChunk,
    MigrationEntry,
    MigrationJob,
)
from modern.errors import Conflict, DomainError, NotFound

# A running job whose workers have all been silent this long has none left (they renew the
# lease every quarter of it, between chunks); the next worker to look takes it up.
LEASE_SECONDS = 60.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)  # SQLite hands datetimes back without their zone


def create_job(session: Session, stream: IO[bytes], *, source_name: str, created_by: str,
               dry_run: bool = False, lines_per_chunk: int = LINES_PER_CHUNK,
               now: dt.datetime | None = None) -> MigrationJob:
    """Reads the export into a new job's chunks (ExportFormatError if it is not an export),
    and records the lines whose file number is in several chunks (`duplicates`): they are
    read here, once, rather than back from the database by a worker while the others wait.
    Memory holds one chunk at a time, and 16 bytes a line until the job is recorded."""
    now = now or _now()
    job = MigrationJob(state=CREATED, dry_run=dry_run, source_name=source_name[:255],
                       source_sha256="", source_bytes=0, line_count=0, chunk_count=0,
                       created_by=created_by[:64], created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    digest = Digest()
    repeats = duplicates.RepeatFinder()
    table = MigrationChunk.__table__
    for chunk in read_chunks(stream, lines_per_chunk=lines_per_chunk, digest=digest):
        repeats.add(chunk.first_line, file_numbers(chunk.payload))
        session.execute(table.insert().values(
            job_id=job.id, seq=chunk.seq, first_line=chunk.first_line,
            line_count=chunk.line_count, status=PENDING, payload=chunk.payload, migrated=0,
            ignored_doublon=0, ignored_clos=0, ignored_deja_migre=0, updated=0, rejected=0))
        job.line_count += chunk.line_count
        job.chunk_count += 1
    job.source_sha256 = digest.sha256.hexdigest()
    job.source_bytes = digest.size
    duplicates.record_scan(session, job.id, repeats, now)
    session.flush()
    return job


class Purged(DomainError):
    """The job's lines were purged at the end of their retention period."""

    status = 410
    code = "LIGNES_EFFACEES"


def get_job(session: Session, job_id: int, *, lock: bool = False) -> MigrationJob:
    """`lock`: the row locked until the transaction ends (PostgreSQL), so that the purge
    cannot mark the job while it is being started, nor the other way round."""
    job = session.get(MigrationJob, job_id, with_for_update=lock or None,
                      populate_existing=lock)
    if job is None:
        raise NotFound(_("Aucun travail de migration n° %(job)s.", job=job_id))
    return job


def job_with_lines(session: Session, job_id: int) -> MigrationJob:
    """The job, when its lines are still kept (Purged otherwise)."""
    job = get_job(session, job_id)
    if job.purged_at is not None:
        raise Purged(_("Les lignes du travail n° %(job)s ont été effacées le %(jour)s, à la fin "
                       "de leur durée de conservation ; ses totaux restent.", job=job_id,
                       jour=job.purged_at.strftime("%d/%m/%Y")))
    return job


def start(session: Session, job_id: int) -> MigrationJob:
    """Created, stopped, failed or interrupted (still "running" with no worker left): the job
    runs (again) from its last checkpoint."""
    job = get_job(session, job_id, lock=True)
    if job.purged_at is not None:
        raise Purged(_("Les lignes du travail n° %(job)s ont été effacées à la fin de leur durée "
                       "de conservation : il ne peut plus reprendre. Relancez l'export.",
                       job=job_id))
    if job.state not in RESUMABLE:
        raise Conflict(_("Le travail n° %(job)s est terminé (%(etat)s).", job=job_id,
                           etat=job.state))
    job.state = RUNNING
    job.error = None
    job.started_at = job.started_at or _now()
    job.updated_at = job.heartbeat_at = _now()  # a fresh lease for the workers about to start
    session.flush()
    return job


resume = start


def heartbeat(session: Session, job_id: int, now: dt.datetime | None = None) -> None:
    """A worker renews the job's lease: it is alive and working on it."""
    session.execute(update(MigrationJob).where(
        MigrationJob.id == job_id, MigrationJob.state.in_((RUNNING, STOPPING))).values(
        heartbeat_at=now or _now()))


def orphaned(job: MigrationJob, *, lease_seconds: float = LEASE_SECONDS,
             now: dt.datetime | None = None) -> bool:
    """Running (or stopping) with no worker left: nobody has renewed the lease in time."""
    if job.state not in (RUNNING, STOPPING):
        return False
    beat = _aware(job.heartbeat_at)
    return beat is None or beat < (now or _now()) - dt.timedelta(seconds=lease_seconds)


def orphaned_jobs(session: Session, *, lease_seconds: float = LEASE_SECONDS,
                  now: dt.datetime | None = None) -> list[int]:
    now = now or _now()
    limit = now - dt.timedelta(seconds=lease_seconds)
    return list(session.scalars(select(MigrationJob.id).where(
        MigrationJob.state.in_((RUNNING, STOPPING)),
        (MigrationJob.heartbeat_at.is_(None)) | (MigrationJob.heartbeat_at < limit))
        .order_by(MigrationJob.id)))


def stop(session: Session, job_id: int, *,
         lease_seconds: float = LEASE_SECONDS) -> MigrationJob:
    """Asks the workers to stop after their current batch; the first to notice sets
    `stopped`. A job not running, or with no worker left, stops at once."""
    job = get_job(session, job_id)
    if job.state in (RUNNING, STOPPING) and orphaned(job, lease_seconds=lease_seconds):
        job.state = STOPPED
    elif job.state == RUNNING:
        job.state = STOPPING
    elif job.state in (CREATED, FAILED):
        job.state = STOPPED
    elif job.state not in (STOPPING, STOPPED):
        raise Conflict(_("Le travail n° %(job)s est terminé (%(etat)s).", job=job_id,
                           etat=job.state))
    job.updated_at = _now()
    session.flush()
    return job


def delete_job(session: Session, job_id: int) -> None:
    """Forgets a job, its chunks and its report (a dry run, once reported)."""
    session.execute(delete(MigrationEntry).where(MigrationEntry.job_id == job_id))
    session.execute(delete(MigrationChunk).where(MigrationChunk.job_id == job_id))
    session.execute(delete(MigrationJob).where(MigrationJob.id == job_id))
    session.flush()


@dataclass(frozen=True)
class JobStatus:
    id: int
    state: str
    phase: str
    dry_run: bool
    source_name: str
    source_sha256: str
    source_bytes: int
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None  # last sign of life of a worker (running jobs)
    error: str | None
    lines: int  # data lines in the file
    staged: int  # lines parsed (first phase)
    # Lines with their final outcome; the six counters below add up to it. Most lines have
    # it as soon as they are staged (only those of a file repeated in another chunk wait for
    # the barrier), so it grows during the first phase too.
    read: int
    migrated: int
    ignored_doublon: int
    ignored_clos: int
    ignored_deja_migre: int
    updated: int  # MIS_A_JOUR: a code reissued by the legacy operator since the migration
    rejected: int

    @property
    def progress(self) -> float:
        """Both phases, from 0 to 1."""
        return (self.staged + self.read) / (2 * self.lines) if self.lines else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "progress": round(self.progress, 4)}


def status(session: Session, job_id: int) -> JobStatus:
    job = get_job(session, job_id)
    chunk = MigrationChunk
    row = session.execute(select(
        func.coalesce(func.sum(chunk.line_count).filter(chunk.status.in_((STAGED, APPLIED))), 0),
        func.coalesce(func.sum(chunk.migrated), 0),
        func.coalesce(func.sum(chunk.ignored_doublon), 0),
        func.coalesce(func.sum(chunk.ignored_clos), 0),
        func.coalesce(func.sum(chunk.ignored_deja_migre), 0),
        func.coalesce(func.sum(chunk.updated), 0),
        func.coalesce(func.sum(chunk.rejected), 0),
    ).where(chunk.job_id == job_id)).one()
    staged, migrated, doublon, clos, deja, updated, rejected = (int(value) for value in row)
    return JobStatus(
        id=job.id, state=job.state, phase=job.phase, dry_run=job.dry_run,
        source_name=job.source_name, source_sha256=job.source_sha256,
        source_bytes=job.source_bytes, created_by=job.created_by, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at,
        heartbeat_at=_aware(job.heartbeat_at), error=job.error,
        lines=job.line_count, staged=staged,
        read=migrated + doublon + clos + deja + updated + rejected, migrated=migrated,
        ignored_doublon=doublon, ignored_clos=clos, ignored_deja_migre=deja, updated=updated,
        rejected=rejected)


def list_jobs(session: Session, limit: int = 50) -> list[JobStatus]:
    ids = session.scalars(select(MigrationJob.id).order_by(MigrationJob.id.desc()).limit(limit))
    return [status(session, job_id) for job_id in ids]


@dataclass(frozen=True)
class ReportLine:
    ligne: int
    numero: str
    resultat: str
    motif: str


REPORT_HEADER = ("ligne", "numero", "resultat", "motif")


def report_lines(session: Session, job_id: int, *, only_issues: bool = False,
                 after_line: int = 0, limit: int | None = None) -> Iterator[ReportLine]:
    """The outcome of each line whose chunk is done, in file order; streamed, so that a
    report of millions of lines does not sit in memory. `only_issues`: every line but MIGRE."""
    job_with_lines(session, job_id)
    entry = MigrationEntry
    done_lines = select(MigrationChunk.first_line, MigrationChunk.line_count).where(
        MigrationChunk.job_id == job_id, MigrationChunk.status == APPLIED)
    query = (select(entry.line, entry.numero_raw, entry.outcome, entry.motif)
             .where(entry.job_id == job_id, entry.line > after_line)
             .order_by(entry.line))
    if only_issues:
        query = query.where(entry.outcome != MIGRE)
    if limit is not None:
        query = query.limit(limit)
    ranges = [(first, first + count - 1) for first, count in session.execute(done_lines)]
    ranges.sort()
    result = session.execute(query.execution_options(yield_per=5000))
    for line, numero_raw, outcome, motif in result:
        if _inside(ranges, line):
            yield ReportLine(line, numero_raw, outcome, motif or "")


def _inside(ranges: list[tuple[int, int]], line: int) -> bool:
    low, high = 0, len(ranges)
    while low < high:
        middle = (low + high) // 2
        first, last = ranges[middle]
        if line < first:
            high = middle
        elif line > last:
            low = middle + 1
        else:
            return True
    return False


def finished(state: str) -> bool:
    return state in (SUCCEEDED, STOPPED, FAILED)


def mark_failed(session: Session, job_id: int, error: str) -> None:
    session.execute(update(MigrationJob).where(
        MigrationJob.id == job_id, MigrationJob.state.in_((RUNNING, STOPPING))).values(
        state=FAILED, error=error[:2000], updated_at=_now()))
    session.flush()


def mark_stopped(session: Session, job_id: int) -> bool:
    result = session.execute(update(MigrationJob).where(
        MigrationJob.id == job_id, MigrationJob.state == STOPPING).values(
        state=STOPPED, updated_at=_now()))
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]
