# ruff: noqa: S608 - the SQL texts below interpolate this module's constants only; every
# value is a bound parameter.
"""The worker loop: claim a chunk, process it, record its checkpoint, all in one transaction.

Any number of workers, in one process or many, on one host or many, run `work(job_id)` on the
same job. On PostgreSQL they claim chunks with `SELECT … FOR UPDATE SKIP LOCKED`: the row lock
is the claim and lasts as long as the transaction that processes the chunk and marks it done.
A worker that dies (an exception, `kill -9`, a lost host) loses its transaction, which frees
the chunk untouched; whoever comes next takes it. A worker stuck inside a chunk (a host cut
off the network) is ended by the server after IDLE_IN_TRANSACTION, freeing its chunk the same
way. PostgreSQL does the coordination: no scheduler. On SQLite, whose writers take turns
anyway, one worker runs a job.

Every live worker renews the job's lease (`heartbeat_at`); a running job whose lease has run
out has no worker left, and the next worker to look takes it up (`work_all`, the admin API).

Stage, per chunk: parse the lines, wrap each fingerprint under the codes' key, write one entry
per line. Between the phases, once every chunk is staged, exactly one worker marks the
duplicates. Apply, per chunk: lines whose file was migrated meanwhile become
IGNORE_DEJA_MIGRE, the others are written to the compatibility layer's storage (migration
record, code, mobile number) with `INSERT … SELECT`, failure counts and locks go to the shared
lockout in one call, and the chunk's counts are kept.

A worker may run several threads (`threads`), each with its own connection: while one waits
for PostgreSQL, another parses; in the apply phase, PostgreSQL works on several chunks at once.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Integer, String, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from migrations.export.rows import Rejection, lines_of, parse_values
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
from telepoints_compat.legacy_fingerprints import wrapper

log = logging.getLogger(__name__)

# A worker's transaction left idle this long (its host gone quiet) is ended by PostgreSQL,
# which frees its chunk for the others.
IDLE_IN_TRANSACTION = "300s"


@dataclass(frozen=True)
class Dependencies:
    """What a worker needs from the application, passed in so that it runs in any thread."""

    key_id: str  # the codes' current key: legacy fingerprints are wrapped under it
    key: bytes
    lockout: Lockout | None  # None: failure counts and locks are not carried over (dry run)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- stage -----------------------------------------------------------------------------------

_NOTHING = (None,) * (len(ENTRY_COLUMNS) - 5)


def stage_rows(job_id: int, first_line: int, payload: bytes, key_id: str,
               key: bytes) -> list[tuple[Any, ...]]:
    """One entry per line, in ENTRY_COLUMNS order. A closed account keeps only what the
    duplicate rule needs: it is never migrated, so its contact details are not copied."""
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    wrap = wrapper(key)
    for line, fields in enumerate(lines_of(payload), first_line):
        values = fields if isinstance(fields, Rejection) else parse_values(fields)
        if isinstance(values, Rejection):
            append((job_id, line, values.numero_raw, REJETE, values.motif, *_NOTHING))
            continue
        (numero_raw, numero, scheme, salt, inner, issued_on, issued_at, expires_at, mobile,
         email, failures, locked_until, statut, created_at, last_login, notes) = values
        if statut == "CLOS":
            append((job_id, line, numero_raw, IGNORE_CLOS, "compte clos", numero, "CLOS",
                    issued_on, *_NOTHING[3:]))
        else:
            append((job_id, line, numero_raw, MIGRE, notes, numero, statut, issued_on, scheme,
                    salt, key_id, wrap(numero, scheme, inner), issued_at, expires_at, mobile,
                    email, failures, locked_until, created_at, last_login))
    return rows


_COPY_TYPES = ("int4", "int4", "varchar", "varchar", "varchar", "varchar", "varchar", "date",
               "varchar", "varchar", "varchar", "varchar", "timestamptz", "timestamptz",
               "varchar", "varchar", "int4", "timestamptz", "timestamptz", "timestamptz")


def _write_entries(session: Session, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if _postgres(session):
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


# -- duplicates ------------------------------------------------------------------------------

# The most recent CODE_EMIS_LE wins, then the first line (contract section 2). Closed
# accounts take part: a closing more recent than the code wins, and nothing is migrated.
# Only the files that appear more than once are ranked: one pass finds them, and the sort
# covers a few per cent of the lines instead of all of them. Each statement is a plain scan
# or primary key look-ups whatever the planner knows of a table written a moment ago (a join
# on a freshly filled table may be planned as a loop over it).
_TAKING_PART = f"job_id = :job AND outcome IN ('{MIGRE}', '{IGNORE_CLOS}')"
_REPEATED = text(f"""
SELECT numero FROM migration_entry WHERE {_TAKING_PART} GROUP BY numero HAVING count(*) > 1
""")
_RANKING = f"""
SELECT w.l, w.winner FROM (
    SELECT line AS l, first_value(line) OVER (
        PARTITION BY numero ORDER BY issued_on DESC, line) AS winner
    FROM migration_entry WHERE {_TAKING_PART} AND {{repeated}}) AS w
WHERE w.winner <> w.l
"""
_LOSERS_PG = text(_RANKING.format(repeated="numero = ANY(CAST(:numeros AS VARCHAR[]))")
                  ).columns(l=Integer(), winner=Integer())
_LOSERS = text(_RANKING.format(repeated=f"numero IN ({_REPEATED.text})")
               ).columns(l=Integer(), winner=Integer())
_LOSERS_ALL = text(_RANKING.format(repeated="TRUE")).columns(l=Integer(), winner=Integer())
_MANY_REPEATED = 100_000
_MARK_LOSERS_PG = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DOUBLON}',
    motif = 'doublon : ligne ' || CAST(w.winner AS VARCHAR) || ' retenue'
FROM unnest(CAST(:lines AS INTEGER[]), CAST(:winners AS INTEGER[])) AS w(l, winner)
WHERE migration_entry.job_id = :job AND migration_entry.line = w.l
""")
_MARK_LOSER = text(f"""
UPDATE migration_entry
SET outcome = '{IGNORE_DOUBLON}',
    motif = 'doublon : ligne ' || CAST(:winner AS VARCHAR) || ' retenue'
WHERE job_id = :job AND line = :line
""")


def mark_duplicates(session: Session, job_id: int) -> int:
    """Marks every line that loses to another line of the same file; returns their count.
    What travels through this process is the repeated file numbers and the losing lines:
    a few per cent of the export."""
    params: dict[str, Any] = {"job": job_id}
    if _postgres(session):
        # The hash of the file numbers fits in memory instead of spilling to disk.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        repeated = list(session.scalars(_REPEATED, params))
        if not repeated:
            return 0
        if len(repeated) > _MANY_REPEATED:  # an export delivered twice over: rank every line
            losers = session.execute(_LOSERS_ALL, params).all()
        else:
            losers = session.execute(_LOSERS_PG, {**params, "numeros": repeated}).all()
        if losers:
            session.execute(_MARK_LOSERS_PG, {
                **params, "lines": [line for line, _ in losers],
                "winners": [winner for _, winner in losers]})
        return len(losers)
    losers = session.execute(_LOSERS, params).all()
    if losers:
        session.execute(_MARK_LOSER, [{"job": job_id, "line": line, "winner": winner}
                                      for line, winner in losers])
    return len(losers)


# -- apply -----------------------------------------------------------------------------------

# Every look-up of another table is a scalar subquery on that table's index, run for each
# line: written as a join or EXISTS, it may be planned as a hash of the whole table, rebuilt
# for each chunk (a million-line export then costs quadratic time).
_RANGE = "job_id = :job AND line BETWEEN :first AND :last"
_E_RANGE = "e.job_id = :job AND e.line BETWEEN :first AND :last"
_MIGRATED = "(SELECT 1 FROM migrated_account m WHERE m.numero = e.numero)"
_CURRENT_CODE = ("(SELECT c.id FROM confidential_code c WHERE c.numero = e.numero "
                 "AND NOT c.pending LIMIT 1)")

_ALREADY_MIGRATED = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}' AND (
    SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero) IS NOT NULL
""")

_TO_LOCKOUT = text(f"""
SELECT e.numero, e.failures, e.locked_until FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND (e.failures > 0 OR e.locked_until IS NOT NULL)
  AND {_MIGRATED} IS NULL
""").columns(numero=String(), failures=Integer(), locked_until=DateTime(timezone=True))

_ACCOUNT_COLUMNS = """numero, source, job_id, line, migrated_at, legacy_statut,
    legacy_issued_on, legacy_failures, legacy_locked_until, legacy_created_at,
    legacy_last_login, email, code_imported"""
_ACCOUNT_VALUES = """e.numero, 'bulk', e.job_id, e.line, :now, e.statut, e.issued_on,
    e.failures, e.locked_until, e.created_at, e.last_login, e.email"""
_CODE_COLUMNS = "numero, scheme, key_id, salt, digest, origin, pending, issued_at, expires_at"
_CODE_VALUES = ("e.numero, e.scheme, e.key_id, e.salt, e.digest, 'legacy', FALSE, "
                "e.issued_at, e.expires_at")
_CONTACT_COLUMNS = "numero, mobile, address, source, updated_at"
_CONTACT_VALUES = "e.numero, e.mobile, NULL, 'legacy', :now"
_COUNTS = text(f"SELECT outcome, count(*) FROM migration_entry WHERE {_RANGE} GROUP BY outcome")

# PostgreSQL, the usual case: no file of the chunk is migrated yet and none has contact
# details here. One statement reads the chunk's lines once, looks up whether each file has a
# current code here, and writes the codes (a suspended account's code, or that of a file with
# a current code, is not carried over), the migration records (which say whether the code
# came) and the mobile numbers, without a conflict clause: should either assumption be wrong,
# a unique key refuses the statement as a whole, and the chunk goes the careful way below,
# which gives each line the outcome it would have had.
_FAST_APPLY = text(f"""
WITH lines AS MATERIALIZED (
    SELECT e.*, e.statut = 'ACTIF' AND {_CURRENT_CODE} IS NULL AS take_code
    FROM migration_entry e WHERE {_E_RANGE} AND e.outcome = '{MIGRE}'),
codes AS (
    INSERT INTO confidential_code ({_CODE_COLUMNS})
    SELECT {_CODE_VALUES} FROM lines e WHERE e.take_code),
accounts AS (
    INSERT INTO migrated_account ({_ACCOUNT_COLUMNS})
    SELECT {_ACCOUNT_VALUES}, e.take_code FROM lines e),
contacts AS (
    INSERT INTO holder_contact ({_CONTACT_COLUMNS})
    SELECT {_CONTACT_VALUES} FROM lines e WHERE e.mobile IS NOT NULL)
SELECT outcome, count(*) FROM migration_entry WHERE {_RANGE} GROUP BY outcome
""")

# The careful way, and SQLite's. The migration record goes first, with ON CONFLICT: its
# conflicts are the files already migrated (in bulk or on first use).
_INSERT_ACCOUNTS = text(f"""
INSERT INTO migrated_account ({_ACCOUNT_COLUMNS})
SELECT {_ACCOUNT_VALUES}, e.statut = 'ACTIF' AND {_CURRENT_CODE} IS NULL
FROM migration_entry e WHERE {_E_RANGE} AND e.outcome = '{MIGRE}'
ON CONFLICT (numero) DO NOTHING
""")

# A file migrated by a first use between the look-up and the insert: its line says so.
_LOST_RACE = text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}' AND (
    SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero
      AND m.job_id = :job AND m.line = migration_entry.line) IS NULL
""")

# The same condition as `code_imported` above, in the same transaction.
_INSERT_CODES = text(f"""
INSERT INTO confidential_code ({_CODE_COLUMNS})
SELECT {_CODE_VALUES} FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND e.statut = 'ACTIF' AND {_CURRENT_CODE} IS NULL
""")

_INSERT_CONTACTS = text(f"""
INSERT INTO holder_contact ({_CONTACT_COLUMNS})
SELECT {_CONTACT_VALUES} FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND e.mobile IS NOT NULL
ON CONFLICT (numero) DO NOTHING
""")

_EXPECTED = text(f"SELECT count(*) FROM migration_entry WHERE {_RANGE} AND outcome = '{MIGRE}'")


def _carry_over_locks(session: Session, params: dict[str, Any], lockout: Lockout) -> None:
    """Failure counts and locks of the chunk's files not migrated yet, in one call to the
    lockout. Done before this transaction's first write: on SQLite the counter store writes
    on a connection of its own and must not queue behind ours. Setting a count twice (a batch
    redone after a crash) leaves it as once."""
    states = [(numero, failures or 0, _aware(locked_until))
              for numero, failures, locked_until in session.execute(_TO_LOCKOUT, params)]
    if states:
        lockout.set_states(states)


def _fast_apply(session: Session, params: dict[str, Any]) -> dict[str, int] | None:
    try:
        with session.begin_nested():
            rows = session.execute(_FAST_APPLY, params).all()
    except IntegrityError:
        return None  # a file migrated or known meanwhile: the careful way
    return {outcome: int(number) for outcome, number in rows}


def _careful_apply(session: Session, params: dict[str, Any]) -> None:
    expected = session.scalar(_EXPECTED, params)
    inserted = session.execute(_INSERT_ACCOUNTS, params).rowcount  # type: ignore[attr-defined]
    if inserted != expected:
        session.execute(_LOST_RACE, params)
    session.execute(_INSERT_CODES, params)
    session.execute(_INSERT_CONTACTS, params)


def apply_chunk(session: Session, job: MigrationJob, chunk: MigrationChunk,
                deps: Dependencies) -> None:
    params: dict[str, Any] = {"job": chunk.job_id, "first": chunk.first_line,
                              "last": chunk.first_line + chunk.line_count - 1}
    counts: dict[str, int] | None = None
    if job.dry_run:
        session.execute(_ALREADY_MIGRATED, params)
    else:
        if deps.lockout is not None:
            _carry_over_locks(session, params, deps.lockout)
        params["now"] = deps.clock()
        if _postgres(session):
            counts = _fast_apply(session, params)
        if counts is None:
            _careful_apply(session, params)
    if counts is None:
        counts = {outcome: int(number) for outcome, number in session.execute(_COUNTS, params)}
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
            mark_duplicates(session, job.id)
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


class _Lease:
    """Renews the job's lease at most every quarter of its length, from any thread."""

    def __init__(self, engine: Engine, job_id: int, seconds: float) -> None:
        self.engine, self.job_id = engine, job_id
        self.every = max(seconds / 4, 0.05)
        self.last = float("-inf")
        self.lock = threading.Lock()

    def renew(self) -> None:
        with self.lock:
            if time.monotonic() - self.last < self.every:
                return
            self.last = time.monotonic()
        try:
            with Session(self.engine) as session, session.begin():
                services.heartbeat(session, self.job_id)
        except SQLAlchemyError:  # the next chunk's transaction will tell what is wrong
            log.warning("migration lease not renewed", extra={"job": self.job_id})


def work(engine: Engine, job_id: int, deps: Dependencies, *, name: str = "worker",
         threads: int = 1, poll_seconds: float = 0.2, max_idle_seconds: float | None = None,
         lease_seconds: float = services.LEASE_SECONDS,
         on_chunk: Callable[[str, int], None] | None = None) -> str:
    """Processes chunks of the job until none is left or the job is stopped; returns the
    job's state as last seen. `threads`: connections working at once (PostgreSQL only).
    `max_idle_seconds`: give up waiting for other workers' chunks."""
    lease = _Lease(engine, job_id, lease_seconds)
    if engine.dialect.name != "postgresql" or threads <= 1:
        return _loop(engine, job_id, deps, name, lease, poll_seconds, max_idle_seconds,
                     on_chunk)
    states: list[str] = []

    def loop() -> None:
        states.append(_loop(engine, job_id, deps, name, lease, poll_seconds, max_idle_seconds,
                            on_chunk))

    # Each helper runs in a copy of this thread's context (the application's, if any).
    helpers = [threading.Thread(target=contextvars.copy_context().run, args=(loop,),
                                name=f"{threading.current_thread().name}-{index}", daemon=True)
               for index in range(1, threads)]
    for thread in helpers:
        thread.start()
    state = _loop(engine, job_id, deps, name, lease, poll_seconds, max_idle_seconds, on_chunk)
    for thread in helpers:
        thread.join()
    return state


def _loop(engine: Engine, job_id: int, deps: Dependencies, name: str, lease: _Lease,
          poll_seconds: float, max_idle_seconds: float | None,
          on_chunk: Callable[[str, int], None] | None) -> str:
    idle_since: float | None = None
    postgres = engine.dialect.name == "postgresql"
    while True:
        lease.renew()
        with Session(engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    if postgres:
                        session.execute(text("SET LOCAL idle_in_transaction_session_timeout"
                                             f" = '{IDLE_IN_TRANSACTION}'"))
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


def runnable_jobs(engine: Engine) -> list[int]:
    """Jobs that a worker can take up: running, or asked to stop (the worker records it)."""
    with Session(engine) as session:
        return list(session.scalars(select(MigrationJob.id).where(
            MigrationJob.state.in_((RUNNING, STOPPING))).order_by(MigrationJob.id)))


def work_all(engine: Engine, deps: Callable[[], Dependencies], *, name: str = "worker",
             threads: int = 1, poll_seconds: float = 2.0, once: bool = False,
             lease_seconds: float = services.LEASE_SECONDS,
             should_stop: Callable[[], bool] = lambda: False) -> list[int]:
    """A standing worker: takes up every running job, one after the other, whoever started
    it and whether or not its first workers are still alive; waits for the next one when none
    is left (`once`: returns instead). Returns the jobs it worked on."""
    seen: list[int] = []
    while not should_stop():
        jobs = runnable_jobs(engine)
        if not jobs:
            if once:
                return seen
            time.sleep(poll_seconds)
            continue
        for job_id in jobs:
            if should_stop():
                break
            log.info("worker takes up a migration job", extra={"job": job_id, "worker": name})
            work(engine, job_id, deps(), name=name, threads=threads,
                 poll_seconds=min(poll_seconds, 0.5), lease_seconds=lease_seconds)
            if job_id not in seen:
                seen.append(job_id)
    return seen
