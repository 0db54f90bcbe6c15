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

The lines whose file number appears in more than one chunk were recorded when the job was
created (duplicates.RepeatFinder; for a job created by an earlier version, exactly one worker
reads them back first, duplicates.scan): they are held for the barrier between the phases.
Stage, per chunk: parse the lines, wrap each fingerprint under the codes' key, rank the
duplicates that lie inside the chunk, write one entry per line, and apply at once the lines
not held: a line whose file was migrated meanwhile becomes IGNORE_DEJA_MIGRE, the others are
written to the compatibility layer's storage (migration record, code, mobile number) with
`INSERT … SELECT`, and failure counts and locks go to the shared lockout in one call. A chunk
with no line held is then done, with its counts. Between the phases, once every chunk is
staged, exactly one worker ranks the held lines; apply, per chunk that holds some: they are
applied the same way, and the chunk's counts are kept. Applying most lines while the others
are still being parsed is what lets the parsing (Python) and the writing (PostgreSQL) run at
the same time.

A worker may run several threads (`threads`), each with its own connection: while one waits
for PostgreSQL, another parses, and PostgreSQL works on several chunks at once.
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

from sqlalchemy import DateTime, Integer, String, bindparam, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, defer

from migrations.export.rows import Rejection, lines_of, parse_values
from migrations.jobs import duplicates, payloads, services
from migrations.jobs.models import (
    APPLIED,
    APPLY,
    DONE,
    ENTRY_COLUMNS,
    IGNORE_CLOS,
    IGNORE_DEJA_MIGRE,
    IGNORE_DOUBLON,
    MIGRE,
    MIS_A_JOUR,
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
from modern.db import database_unreachable
from modern.throttling import Lockout
from telepoints_compat.legacy_fingerprints import wrapper

log = logging.getLogger(__name__)

# A worker's transaction left idle this long (its host gone quiet) is ended by PostgreSQL,
# which frees its chunk for the others.
IDLE_IN_TRANSACTION = "300s"
# Each batch's transaction, on PostgreSQL: ended when left idle that long, and committed
# without waiting for the disk (asynchronous commit). A batch carries its own checkpoint, so
# a commit lost in a crash of the server (its last few hundred milliseconds) only sends its
# chunk back to the workers, to be done again; the database stays consistent, and anything
# committed later that depends on it makes it durable first. It spares each chunk the wait
# for the write-ahead log to reach the disk.
_BATCH_SETTINGS = text(
    "SELECT set_config('idle_in_transaction_session_timeout', :idle, true), "
    "set_config('synchronous_commit', 'off', true)").bindparams(idle=IDLE_IN_TRANSACTION)
# A database out of reach (a restart, a failover) fails the batch in flight, never the job:
# its transaction is lost like a killed worker's, and the worker tries again, pausing longer
# each time, for this long; then it leaves the job running for the next worker to take up.
OUTAGE_SECONDS = 120.0


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


# Where stage_rows puts the values the carry-over of failure counts and locks reads.
_LINE, _OUTCOME, _NUMERO, _FAILURES, _LOCKED_UNTIL = map(
    ENTRY_COLUMNS.index, ("line", "outcome", "numero", "failures", "locked_until"))


def stage_chunk(session: Session, job: MigrationJob, chunk: MigrationChunk,
                deps: Dependencies, *, early: bool) -> None:
    """Parses the chunk's lines and writes one entry per line. `early` (the job was scanned,
    see duplicates.py): the duplicates inside the chunk are ranked at once, and the lines
    whose file number appears in no other chunk are applied in the same transaction; a chunk
    with no line left waiting for the barrier is then done."""
    rows = stage_rows(chunk.job_id, chunk.first_line,
                      payloads.read(session, chunk.job_id, chunk.seq), deps.key_id, deps.key)
    if not early:  # every line waits for the barrier
        _write_entries(session, rows)
        chunk.status = STAGED
        chunk.payload = None
        return
    params = _chunk_params(chunk)
    held = duplicates.held_lines(session, params)
    rows = duplicates.rank_within(rows, held)
    if not job.dry_run and deps.lockout is not None:
        _carry_over(session, deps.lockout, [
            (row[_NUMERO], row[_FAILURES], row[_LOCKED_UNTIL]) for row in rows
            if (row[_FAILURES] or row[_LOCKED_UNTIL] is not None)  # the rare test first
            and row[_OUTCOME] == MIGRE and row[_LINE] not in held])
    _write_entries(session, rows)
    counts = _apply(session, job, params, deps, _EARLY if held else _EVERY_LINE)
    if held:
        # The lines not held have their final outcome already: counted now, so that a job
        # whose duplicates span its chunks does not show nothing done during its first phase
        # (the whole chunk is counted again once its held lines are applied).
        _set_counts(chunk, _counts(session, _EARLY_COUNTS, params))
        chunk.status = STAGED
    else:
        _record_counts(session, chunk, params, counts)
    chunk.payload = None  # the entries hold all that is needed from now on


def _chunk_params(chunk: MigrationChunk) -> dict[str, Any]:
    return {"job": chunk.job_id, "first": chunk.first_line,
            "last": chunk.first_line + chunk.line_count - 1}


# -- apply -----------------------------------------------------------------------------------

# Every look-up of another table is a scalar subquery on that table's index, run for each
# line: written as a join or EXISTS, it may be planned as a hash of the whole table, rebuilt
# for each chunk (a million-line export then costs quadratic time).
_RANGE = "job_id = :job AND line BETWEEN :first AND :last"
_E_RANGE = "e.job_id = :job AND e.line BETWEEN :first AND :last"
_MIGRATED = "(SELECT 1 FROM migrated_account m WHERE m.numero = e.numero)"
_CURRENT_CODE = ("(SELECT c.id FROM confidential_code c WHERE c.numero = e.numero "
                 "AND NOT c.pending LIMIT 1)")
_HELD_CODE_ISSUED = ("(SELECT max(c.issued_at) FROM confidential_code c "
                     "WHERE c.numero = migration_entry.numero AND NOT c.pending)")
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
_EARLY_COUNTS = text(f"SELECT outcome, count(*) FROM migration_entry WHERE {_RANGE} AND "
                     f"{duplicates.scope('migration_entry', held=False)} GROUP BY outcome")
_MIGRATED_AMONG = text("SELECT numero FROM migrated_account WHERE numero IN :numeros"
                       ).bindparams(bindparam("numeros", expanding=True))


@dataclass(frozen=True)
class _Statements:
    """The apply's statements for one set of a chunk's lines (see _statements)."""

    already_migrated: Any
    reissued: Any
    drop_replaced_codes: Any
    insert_reissued_codes: Any
    mark_reissued_accounts: Any
    to_lockout: Any
    fast_apply: Any
    insert_accounts: Any
    lost_race: Any
    insert_codes: Any
    insert_contacts: Any
    expected: Any


def _statements(scope: Callable[[str], str]) -> _Statements:
    """The statements that apply the MIGRE lines of a chunk for which `scope(table)` holds
    (a condition on the lines of `table`, a name or an alias of migration_entry)."""
    e, entry = scope("e"), scope("migration_entry")
    return _Statements(
        already_migrated=text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}' AND {entry} AND (
    SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero) IS NOT NULL
"""),
        # A later export: among the files already migrated, those whose code the legacy
        # operator reissued since. The line's CODE_EMIS_LE (midnight, Paris) must be later
        # than the issue of the current code held here, so that a code issued here since
        # (by an agent, at the holder's request) wins; a file that holds no code here
        # (suspended when it was migrated) compares with the code date it was migrated with.
        reissued=text(f"""
UPDATE migration_entry SET outcome = '{MIS_A_JOUR}', motif = 'code réémis depuis la migration'
WHERE {_RANGE} AND outcome = '{IGNORE_DEJA_MIGRE}' AND {entry} AND statut = 'ACTIF' AND CASE
    WHEN {_HELD_CODE_ISSUED} IS NOT NULL THEN issued_at > {_HELD_CODE_ISSUED}
    ELSE issued_on > (SELECT m.legacy_issued_on FROM migrated_account m
                      WHERE m.numero = migration_entry.numero) END
"""),
        # The reissued code replaces the current one; a pending code (asked for here, not
        # used yet) stays, as a request for a new code never cancels the current one.
        drop_replaced_codes=text(f"""
DELETE FROM confidential_code WHERE NOT pending AND numero IN (
    SELECT e.numero FROM migration_entry e
    WHERE {_E_RANGE} AND e.outcome = '{MIS_A_JOUR}' AND {e})
"""),
        insert_reissued_codes=text(f"""
INSERT INTO confidential_code ({_CODE_COLUMNS})
SELECT {_CODE_VALUES} FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIS_A_JOUR}' AND {e}
"""),
        mark_reissued_accounts=text(f"""
UPDATE migrated_account SET code_imported = TRUE, legacy_issued_on = (
    SELECT e.issued_on FROM migration_entry e WHERE {_E_RANGE} AND e.outcome = '{MIS_A_JOUR}'
      AND {e} AND e.numero = migrated_account.numero)
WHERE numero IN (SELECT e.numero FROM migration_entry e
                 WHERE {_E_RANGE} AND e.outcome = '{MIS_A_JOUR}' AND {e})
"""),
        to_lockout=text(f"""
SELECT e.numero, e.failures, e.locked_until FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND {e}
  AND (e.failures > 0 OR e.locked_until IS NOT NULL) AND {_MIGRATED} IS NULL
""").columns(numero=String(), failures=Integer(), locked_until=DateTime(timezone=True)),
        # PostgreSQL, the usual case: no file of these lines is migrated yet and none has
        # contact details here. One statement reads the lines once, looks up whether each
        # file has a current code here, and writes the codes (a suspended account's code, or
        # that of a file with a current code, is not carried over), the migration records
        # (which say whether the code came) and the mobile numbers, without a conflict
        # clause: should either assumption be wrong, a unique key refuses the statement as a
        # whole, and the lines go the careful way below, which gives each line the outcome
        # it would have had. It returns the chunk's counts.
        fast_apply=text(f"""
WITH lines AS MATERIALIZED (
    SELECT e.*, e.statut = 'ACTIF' AND {_CURRENT_CODE} IS NULL AS take_code
    FROM migration_entry e WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND {e}),
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
"""),
        # The careful way, and SQLite's. The migration record goes first, with ON CONFLICT:
        # its conflicts are the files already migrated (in bulk or on first use).
        insert_accounts=text(f"""
INSERT INTO migrated_account ({_ACCOUNT_COLUMNS})
SELECT {_ACCOUNT_VALUES}, e.statut = 'ACTIF' AND {_CURRENT_CODE} IS NULL
FROM migration_entry e WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND {e}
ON CONFLICT (numero) DO NOTHING
"""),
        # A file migrated by a first use between the look-up and the insert: its line says so.
        lost_race=text(f"""
UPDATE migration_entry SET outcome = '{IGNORE_DEJA_MIGRE}', motif = 'compte déjà migré'
WHERE {_RANGE} AND outcome = '{MIGRE}' AND {entry} AND (
    SELECT 1 FROM migrated_account m WHERE m.numero = migration_entry.numero
      AND m.job_id = :job AND m.line = migration_entry.line) IS NULL
"""),
        # The same condition as `code_imported` above, in the same transaction.
        insert_codes=text(f"""
INSERT INTO confidential_code ({_CODE_COLUMNS})
SELECT {_CODE_VALUES} FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND {e} AND e.statut = 'ACTIF'
  AND {_CURRENT_CODE} IS NULL
"""),
        insert_contacts=text(f"""
INSERT INTO holder_contact ({_CONTACT_COLUMNS})
SELECT {_CONTACT_VALUES} FROM migration_entry e
WHERE {_E_RANGE} AND e.outcome = '{MIGRE}' AND {e} AND e.mobile IS NOT NULL
ON CONFLICT (numero) DO NOTHING
"""),
        expected=text(f"SELECT count(*) FROM migration_entry e WHERE {_E_RANGE} "
                      f"AND e.outcome = '{MIGRE}' AND {e}"),
    )


# Every line of a chunk; while it is staged, the lines not held for the barrier; after the
# barrier, the held lines.
_EVERY_LINE = _statements(lambda table: "TRUE")
_EARLY = _statements(lambda table: duplicates.scope(table, held=False))
_LATE = _statements(lambda table: duplicates.scope(table, held=True))


def _carry_over(session: Session, lockout: Lockout,
                states: list[tuple[str, int, dt.datetime | None]]) -> None:
    """Failure counts and locks of files not migrated yet, in one call to the lockout. Done
    before the transaction's first write: on SQLite the counter store writes on a connection
    of its own and must not queue behind ours. Setting a count twice (a batch redone after a
    crash) leaves it as once."""
    if not states:
        return
    migrated = set(session.scalars(_MIGRATED_AMONG,
                                   {"numeros": [numero for numero, _, _ in states]}))
    states = [(numero, failures, _aware(locked_until))
              for numero, failures, locked_until in states if numero not in migrated]
    if states:
        lockout.set_states(states)


def _fast_apply(session: Session, statements: _Statements,
                params: dict[str, Any]) -> dict[str, int] | None:
    try:
        with session.begin_nested():
            rows = session.execute(statements.fast_apply, params).all()
    except IntegrityError:
        return None  # a file migrated or known meanwhile: the careful way
    return {outcome: int(number) for outcome, number in rows}


def _careful_apply(session: Session, statements: _Statements, params: dict[str, Any]) -> None:
    expected = session.scalar(statements.expected, params)
    inserted = session.execute(statements.insert_accounts, params).rowcount  # type: ignore[attr-defined]
    if inserted != expected:
        session.execute(statements.lost_race, params)
        _replace_reissued_codes(session, statements, params)
    session.execute(statements.insert_codes, params)
    session.execute(statements.insert_contacts, params)


def _replace_reissued_codes(session: Session, statements: _Statements,
                            params: dict[str, Any]) -> None:
    """The lines of files already migrated whose code was reissued since become MIS_A_JOUR,
    and their code replaces the one held here."""
    if session.execute(statements.reissued, params).rowcount:  # type: ignore[attr-defined]
        session.execute(statements.drop_replaced_codes, params)
        session.execute(statements.insert_reissued_codes, params)
        session.execute(statements.mark_reissued_accounts, params)


def _apply(session: Session, job: MigrationJob, params: dict[str, Any], deps: Dependencies,
           statements: _Statements) -> dict[str, int] | None:
    """Applies the chunk's MIGRE lines that `statements` cover (a dry run only marks the
    files migrated meanwhile, and those of them whose code was reissued since); returns the
    chunk's counts when it had them at hand."""
    if job.dry_run:
        session.execute(statements.already_migrated, params)
        session.execute(statements.reissued, params)
        return None
    params = {**params, "now": deps.clock()}
    counts = _fast_apply(session, statements, params) if _postgres(session) else None
    if counts is None:
        _careful_apply(session, statements, params)
    return counts


def _counts(session: Session, query: Any, params: dict[str, Any]) -> dict[str, int]:
    return {outcome: int(number) for outcome, number in session.execute(query, params)}


def _set_counts(chunk: MigrationChunk, counts: dict[str, int]) -> None:
    chunk.migrated = counts.get(MIGRE, 0)
    chunk.ignored_doublon = counts.get(IGNORE_DOUBLON, 0)
    chunk.ignored_clos = counts.get(IGNORE_CLOS, 0)
    chunk.ignored_deja_migre = counts.get(IGNORE_DEJA_MIGRE, 0)
    chunk.updated = counts.get(MIS_A_JOUR, 0)
    chunk.rejected = counts.get(REJETE, 0)


def _record_counts(session: Session, chunk: MigrationChunk, params: dict[str, Any],
                   counts: dict[str, int] | None) -> None:
    """The chunk is done: its counts are kept."""
    _set_counts(chunk, counts if counts is not None else _counts(session, _COUNTS, params))
    chunk.status = APPLIED


def apply_chunk(session: Session, job: MigrationJob, chunk: MigrationChunk,
                deps: Dependencies, *, early: bool) -> None:
    """After the barrier: the chunk's lines that waited for it are applied (`early`), or all
    of its lines (a job staged without a scan)."""
    params = _chunk_params(chunk)
    statements = _LATE if early else _EVERY_LINE
    if not job.dry_run and deps.lockout is not None:
        _carry_over(session, deps.lockout, [
            (numero, failures or 0, locked_until) for numero, failures, locked_until
            in session.execute(statements.to_lockout, params)])
    _record_counts(session, chunk, params, _apply(session, job, params, deps, statements))


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)  # SQLite hands datetimes back without their zone


# -- the loop --------------------------------------------------------------------------------

def _claim(session: Session, job_id: int, status: str) -> MigrationChunk | None:
    return session.scalars(
        select(MigrationChunk).options(defer(MigrationChunk.payload))  # see payloads.read
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
            duplicates.mark_duplicates(session, job.id, dt.datetime.now(dt.UTC))
    else:
        now = dt.datetime.now(dt.UTC)
        session.execute(update(MigrationJob).where(
            MigrationJob.id == job.id, MigrationJob.phase == APPLY,
            MigrationJob.state == RUNNING).values(
            phase=DONE, state=SUCCEEDED, finished_at=now, updated_at=now))


def error_text(exc: BaseException) -> str:
    """What an administrator may read: the error's kind and first line, never the SQL
    parameters (they could hold file numbers)."""
    original = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
    if isinstance(original, BaseException):
        exc = original
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}"
    # An error of ours raised from another (the counters' store from the database's "disk
    # full"): the cause is what the administrator needs.
    if original is None and exc.__cause__ is not None:
        text += f" ({error_text(exc.__cause__)})"
    return text[:500]


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


class _Outage:
    """Batches lost in a row to an unreachable database, and the pause before the next try."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self.since: float | None = None
        self.tries = 0

    def wait(self) -> bool:
        """Pauses before another try; False once the database has been away too long."""
        now = time.monotonic()
        self.since = self.since or now
        if now - self.since > self.patience:
            return False
        time.sleep(min(0.2 * 2 ** self.tries, 5.0))
        self.tries += 1
        return True

    def over(self) -> None:
        self.since, self.tries = None, 0


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
    outage = _Outage(OUTAGE_SECONDS)
    early: bool | None = None  # see duplicates.applies_early; once known, it stays
    while True:
        lease.renew()
        with Session(engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    if postgres:
                        session.execute(_BATCH_SETTINGS)
                    job = session.get(MigrationJob, job_id)
                    if job is None:
                        return "missing"
                    if job.state == STOPPING:
                        services.mark_stopped(session, job_id)
                        return "stopped"
                    if job.state != RUNNING or job.phase == DONE:
                        return job.state
                    if early is None:
                        early = duplicates.applies_early(session, job_id)
                        if early is None:  # nothing staged yet: the file numbers come first
                            duplicates.scan(session, job_id, deps.clock())
                            continue
                    wanted = PENDING if job.phase == STAGE else STAGED
                    chunk = _claim(session, job_id, wanted)
                    if chunk is not None:
                        phase = job.phase
                        if phase == STAGE:
                            stage_chunk(session, job, chunk, deps, early=early)
                        else:
                            apply_chunk(session, job, chunk, deps, early=early)
                        chunk.worker = name[:64]
                        lines = chunk.line_count
                    elif _remaining(session, job_id, wanted) == 0:
                        _advance(session, job)
                        continue
                    else:
                        phase, lines = job.phase, 0
            except Exception as exc:
                if database_unreachable(exc):
                    if outage.wait():
                        log.warning("database unreachable: the batch will be done again",
                                    extra={"job": job_id, "error": error_text(exc)})
                        continue
                    log.error("database unreachable: the job is left to the next worker",
                              extra={"job": job_id, "error": error_text(exc)})
                    return RUNNING
                log.exception("migration batch failed", extra={"job": job_id})
                with session.begin():
                    services.mark_failed(session, job_id, error_text(exc))
                return "failed"
        outage.over()
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
        try:
            jobs = runnable_jobs(engine)
        except SQLAlchemyError as exc:
            if not database_unreachable(exc):
                raise
            log.warning("database unreachable: looking again later",
                        extra={"worker": name, "error": error_text(exc)})
            time.sleep(poll_seconds)
            continue
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
