# ruff: noqa: S608 - the SQL texts below interpolate this module's constants only; every
# value is a bound parameter.
"""The worker loop: claim a chunk, process it, record its checkpoint, all in one transaction.

Any number of workers, in one process or many, on one host or many, run `work(job_id)` on the
same job. On PostgreSQL they claim chunks with `SELECT … FOR UPDATE SKIP LOCKED`: the row lock
is the claim and lasts as long as the transaction that processes the chunk and marks it done.
A worker that dies (an exception, `kill -9`, a lost host) loses its transaction, which frees
the chunk untouched; whoever comes next takes it. PostgreSQL does the coordination: no
scheduler, no lease to expire. On SQLite, whose writers take turns anyway, one worker runs a job.

Stage, per chunk: parse the lines, wrap each fingerprint under the codes' key, write one entry
per line. Between the phases, once every chunk is staged, exactly one worker marks the
duplicates in one statement. Apply, per chunk: lines whose file was migrated meanwhile become
IGNORE_DEJA_MIGRE, the others are written to the compatibility layer's storage (migration
record, code, mobile number) with `INSERT … SELECT`, failure counts and locks go to the shared
lockout, and the chunk's counts are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Integer, String, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from migrations.export.reader import chunk_lines
from migrations.export.rows import Rejection, parse_line
from migrations.jobs import services
from migrations.jobs.models import (
    APPLIED,
    APPLY,
    DONE,
    ENTRY_COLUMNS,
    IGNORE_CLOS,
    IGNORE_DEJA_MIGRE,
    IGNORE_DOUBLON,
    MIGRE,
    PENDING,
    REJETE,
    RUNNING,
    STAGE,
    STAGED,
    STOPPING,
    SUCCEEDED,
    MigrationChunk,
    MigrationEntry,
    MigrationJob,
)
from modern.throttling import Lockout
from telepoints_compat.legacy_fingerprints import wrap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dependencies:
    """What a worker needs from the application, passed in so that it runs in any thread."""

    key_id: str  # the codes' current key: legacy fingerprints are wrapped under it
    key: bytes
    lockout: Lockout | None  # None: failure counts and locks are not carried over (dry run)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


# -- stage -----------------------------------------------------------------------------------

_NOTHING = (None,) * (len(ENTRY_COLUMNS) - 5)


def stage_rows(job_id: int, first_line: int, payload: bytes, key_id: str,
               key: bytes) -> list[tuple[Any, ...]]:
    """One entry per line, in ENTRY_COLUMNS order. A closed account keeps only what the
    duplicate rule needs: it is never migrated, so its contact details are not copied."""
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for line, raw in chunk_lines(payload, first_line):
        row = parse_line(raw)
        if isinstance(row, Rejection):
            append((job_id, line, row.numero_raw, REJETE, row.motif, *_NOTHING))
        elif row.statut == "CLOS":
            append((job_id, line, row.numero_raw, IGNORE_CLOS, "compte clos", row.numero, "CLOS",
                    row.issued_on, *_NOTHING[3:]))
        else:
            fp = row.fingerprint
            append((job_id, line, row.numero_raw, MIGRE, row.notes, row.numero, row.statut,
                    row.issued_on, fp.scheme, fp.salt, key_id,
                    wrap(key, row.numero, fp.scheme, fp.inner), row.issued_at, row.expires_at,
                    row.mobile, row.email, row.failures, row.locked_until, row.created_at,
                    row.last_login))
    return rows


_COPY_TYPES = ("int4", "int4", "varchar", "varchar", "varchar", "varchar", "varchar", "date",
               "varchar", "varchar", "varchar", "varchar", "timestamptz", "timestamptz",
               "varchar", "varchar", "int4", "timestamptz", "timestamptz", "timestamptz")


def _write_entries(session: Session, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # COPY: several times cheaper per row than even pipelined INSERTs.
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY migration_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
    else:
        session.execute(MigrationEntry.__table__.insert(),
                        [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in rows])


def stage_chunk(session: Session, chunk: MigrationChunk, deps: Dependencies) -> None:
    rows = stage_rows(chunk.job_id, chunk.first_line, chunk.payload or b"", deps.key_id,
                      deps.key)
    _write_entries(session, rows)
    chunk.status = STAGED
    chunk.payload = None  # the entries hold all that is needed from now on


# The most recent CODE_EMIS_LE wins, then the first line (contract section 2). Closed
# accounts take part: a closing more recent than the code wins, and nothing is migrated.
_MARK_DUPLICATES = text(f"""
UPDATE migration_entry
SET outcome = '{IGNORE_DOUBLON}',
    motif = 'doublon : ligne ' || CAST(w.winner AS VARCHAR) || ' retenue'
FROM (SELECT line AS l, first_value(line) OVER (
          PARTITION BY numero ORDER BY issued_on DESC, line) AS winner
      FROM migration_entry
      WHERE job_id = :job AND outcome IN ('{MIGRE}', '{IGNORE_CLOS}')) AS w
WHERE migration_entry.job_id = :job AND migration_entry.line = w.l AND w.winner <> w.l
""")


# -- apply -----------------------------------------------------------------------------------

_RANGE = "job_id = :job AND line BETWEEN :first AND :last"

_ALREADY_MIGRATED = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}'
  AND EXISTS (SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero)
""")

_TO_LOCKOUT = text(f"""
SELECT numero, failures, locked_until FROM migration_entry
WHERE {_RANGE} AND outcome = '{MIGRE}' AND (failures > 0 OR locked_until IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero)
""").columns(numero=String(), failures=Integer(), locked_until=DateTime(timezone=True))

_INSERT_ACCOUNTS = text(f"""
INSERT INTO migrated_account (numero, source, job_id, line, migrated_at, legacy_statut,
    legacy_issued_on, legacy_failures, legacy_locked_until, legacy_created_at,
    legacy_last_login, email, code_imported)
SELECT e.numero, 'bulk', e.job_id, e.line, :now, e.statut, e.issued_on, e.failures,
    e.locked_until, e.created_at, e.last_login, e.email,
    e.statut = 'ACTIF' AND NOT EXISTS (
        SELECT 1 FROM confidential_code c WHERE c.numero = e.numero AND NOT c.pending)
FROM migration_entry e
WHERE e.job_id = :job AND e.line BETWEEN :first AND :last AND e.outcome = '{MIGRE}'
ON CONFLICT (numero) DO NOTHING
""")

# A file migrated by a first use between the check above and the insert: its line says so.
_LOST_RACE = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}' AND NOT EXISTS (
    SELECT 1 FROM migrated_account m
    WHERE m.numero = migration_entry.numero AND m.job_id = :job AND m.line = migration_entry.line)
""")

# The same condition as `code_imported` above, in the same transaction.
_INSERT_CODES = text(f"""
INSERT INTO confidential_code (numero, scheme, key_id, salt, digest, origin, pending,
    issued_at, expires_at)
SELECT e.numero, e.scheme, e.key_id, e.salt, e.digest, 'legacy', FALSE, e.issued_at,
    e.expires_at
FROM migration_entry e
WHERE e.job_id = :job AND e.line BETWEEN :first AND :last AND e.outcome = '{MIGRE}'
  AND e.statut = 'ACTIF' AND NOT EXISTS (
      SELECT 1 FROM confidential_code c WHERE c.numero = e.numero AND NOT c.pending)
""")

_INSERT_CONTACTS = text(f"""
INSERT INTO holder_contact (numero, mobile, address, source, updated_at)
SELECT e.numero, e.mobile, NULL, 'legacy', :now
FROM migration_entry e
WHERE e.job_id = :job AND e.line BETWEEN :first AND :last AND e.outcome = '{MIGRE}'
  AND e.mobile IS NOT NULL
ON CONFLICT (numero) DO NOTHING
""")

_COUNTS = text(f"SELECT outcome, count(*) FROM migration_entry WHERE {_RANGE} GROUP BY outcome")


def apply_chunk(session: Session, job: MigrationJob, chunk: MigrationChunk,
                deps: Dependencies) -> None:
    params = {"job": chunk.job_id, "first": chunk.first_line,
              "last": chunk.first_line + chunk.line_count - 1}
    if not job.dry_run and deps.lockout is not None:
        # Before this transaction's first write: on SQLite the counter store writes on a
        # connection of its own and must not queue behind ours. Setting a count twice (a
        # batch redone after a crash) leaves it as once.
        for numero, failures, locked_until in session.execute(_TO_LOCKOUT, params):
            deps.lockout.set_state(numero, failures or 0, _aware(locked_until))
    if job.dry_run:
        session.execute(_ALREADY_MIGRATED, params)
    else:
        # The insert's conflicts are the files already migrated: the same outcome as the
        # dry run's look-up above, without a second probe per line.
        now = deps.clock()
        expected = session.scalar(text(
            f"SELECT count(*) FROM migration_entry WHERE {_RANGE} AND outcome = '{MIGRE}'"),
            params)
        result = session.execute(_INSERT_ACCOUNTS, {**params, "now": now})
        inserted = result.rowcount  # type: ignore[attr-defined]
        if inserted != expected:
            session.execute(_LOST_RACE, params)
        session.execute(_INSERT_CODES, params)
        session.execute(_INSERT_CONTACTS, {**params, "now": now})
    counts: dict[str, int] = {outcome: int(number) for outcome, number in
                              session.execute(_COUNTS, params)}
    chunk.migrated = counts.get(MIGRE, 0)
    chunk.ignored_doublon = counts.get(IGNORE_DOUBLON, 0)
    chunk.ignored_clos = counts.get(IGNORE_CLOS, 0)
    chunk.ignored_deja_migre = counts.get(IGNORE_DEJA_MIGRE, 0)
    chunk.rejected = counts.get(REJETE, 0)
    chunk.status = APPLIED


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)  # SQLite hands datetimes back without their zone


# -- the loop --------------------------------------------------------------------------------

def _claim(session: Session, job_id: int, status: str) -> MigrationChunk | None:
    return session.scalars(
        select(MigrationChunk)
        .where(MigrationChunk.job_id == job_id, MigrationChunk.status == status)
        .order_by(MigrationChunk.seq).limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def _remaining(session: Session, job_id: int, status: str) -> int:
    return int(session.scalar(select(func.count()).select_from(MigrationChunk).where(
        MigrationChunk.job_id == job_id, MigrationChunk.status == status)) or 0)


def _advance(session: Session, job: MigrationJob) -> None:
    """Every chunk of the phase is done: exactly one worker moves the job on (the conditional
    update takes the job's row lock; the others find the phase already changed)."""
    if job.phase == STAGE:
        moved = session.execute(update(MigrationJob).where(
            MigrationJob.id == job.id, MigrationJob.phase == STAGE).values(phase=APPLY))
        if moved.rowcount:  # type: ignore[attr-defined]
            session.execute(_MARK_DUPLICATES, {"job": job.id})
    else:
        now = dt.datetime.now(dt.UTC)
        session.execute(update(MigrationJob).where(
            MigrationJob.id == job.id, MigrationJob.phase == APPLY,
            MigrationJob.state == RUNNING).values(
            phase=DONE, state=SUCCEEDED, finished_at=now, updated_at=now))


def _error_text(exc: BaseException) -> str:
    """What an administrator may read: the error's kind and first line, never the SQL
    parameters (they could hold file numbers)."""
    original = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
    if isinstance(original, BaseException):
        exc = original
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:500]


def work(engine: Engine, job_id: int, deps: Dependencies, *, name: str = "worker",
         poll_seconds: float = 0.2, max_idle_seconds: float | None = None,
         on_chunk: Callable[[str, int], None] | None = None) -> str:
    """Processes chunks of the job until none is left or the job is stopped; returns the
    job's state as last seen. `max_idle_seconds`: give up waiting for other workers' chunks."""
    idle_since: float | None = None
    while True:
        with Session(engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    job = session.get(MigrationJob, job_id)
                    if job is None:
                        return "missing"
                    if job.state == STOPPING:
                        services.mark_stopped(session, job_id)
                        return "stopped"
                    if job.state != RUNNING or job.phase == DONE:
                        return job.state
                    wanted = PENDING if job.phase == STAGE else STAGED
                    chunk = _claim(session, job_id, wanted)
                    if chunk is not None:
                        phase = job.phase
                        if phase == STAGE:
                            stage_chunk(session, chunk, deps)
                        else:
                            apply_chunk(session, job, chunk, deps)
                        chunk.worker = name[:64]
                        lines = chunk.line_count
                    elif _remaining(session, job_id, wanted) == 0:
                        _advance(session, job)
                        continue
                    else:
                        phase, lines = job.phase, 0
            except Exception as exc:
                log.exception("migration batch failed", extra={"job": job_id})
                with session.begin():
                    services.mark_failed(session, job_id, _error_text(exc))
                return "failed"
        if lines:
            idle_since = None
            if on_chunk is not None:
                on_chunk(phase, lines)
            continue
        # Other workers hold the remaining chunks: wait for them to finish, or to die (their
        # chunks are then free again and this worker takes them).
        idle_since = idle_since or time.monotonic()
        if max_idle_seconds is not None and time.monotonic() - idle_since > max_idle_seconds:
            return RUNNING
        time.sleep(poll_seconds)
