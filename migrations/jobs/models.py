"""Jobs, their chunks and one entry per line of the export.

A job goes through two phases. *Stage*: each chunk's lines are read and parsed, and one entry
per line is written with its provisional outcome (REJETE with its reason, IGNORE_CLOS, or
MIGRE). Once every chunk is staged, one statement marks the duplicates (the most recent
`CODE_EMIS_LE` wins, then the first line). *Apply*: each chunk's winners are written as
accounts, those migrated meanwhile become IGNORE_DEJA_MIGRE, and the chunk's counts are kept.

A chunk is claimed with `SELECT … FOR UPDATE SKIP LOCKED` and processed in the same
transaction as its checkpoint (its new status), so a worker that dies, even by `kill -9`,
leaves its chunk exactly as it found it, and the next worker takes it up. The raw lines are
kept in the chunk until it is staged, so workers on other hosts need no shared file system.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

# Job states (as AWS Cognito's import jobs, less the ones we need not).
CREATED, RUNNING, STOPPING, STOPPED, SUCCEEDED, FAILED = (
    "created", "running", "stopping", "stopped", "succeeded", "failed")
STATES = (CREATED, RUNNING, STOPPING, STOPPED, SUCCEEDED, FAILED)
RESUMABLE = (CREATED, STOPPING, STOPPED, FAILED, RUNNING)
# Phases and chunk statuses.
STAGE, APPLY, DONE = "stage", "apply", "done"
PENDING, STAGED, APPLIED = "pending", "staged", "applied"

# Outcomes of a line (contract section 2).
MIGRE = "MIGRE"
IGNORE_DOUBLON = "IGNORE_DOUBLON"
IGNORE_CLOS = "IGNORE_CLOS"
IGNORE_DEJA_MIGRE = "IGNORE_DEJA_MIGRE"
REJETE = "REJETE"
# This service's own outcome, not the contract's: a later export's line for a file already
# migrated whose code the legacy operator reissued since (its CODE_EMIS_LE is later than the
# issue of the code held here); the line's code replaces the one held here.
MIS_A_JOUR = "MIS_A_JOUR"
OUTCOMES = (MIGRE, IGNORE_DOUBLON, IGNORE_CLOS, IGNORE_DEJA_MIGRE, MIS_A_JOUR, REJETE)


class MigrationJob(db.Model):  # type: ignore[name-defined]
    __tablename__ = "migration_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(10), default=CREATED)
    phase: Mapped[str] = mapped_column(String(8), default=STAGE)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    source_name: Mapped[str] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)  # data lines (header excluded)
    chunk_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                            default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # The lease: every live worker renews it; older than the lease, nobody works on the job.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    # Set when the retention period has run out and the job's lines were purged
    # (migrations/jobs/retention.py): its counts remain, its report and lines do not.
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                          default=None)


class MigrationChunk(db.Model):  # type: ignore[name-defined]
    __tablename__ = "migration_chunk"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("migration_job.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_line: Mapped[int] = mapped_column(Integer)
    line_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default=PENDING)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    migrated: Mapped[int] = mapped_column(Integer, default=0)
    ignored_doublon: Mapped[int] = mapped_column(Integer, default=0)
    ignored_clos: Mapped[int] = mapped_column(Integer, default=0)
    ignored_deja_migre: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)  # MIS_A_JOUR
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64), default=None)


class MigrationEntry(db.Model):  # type: ignore[name-defined]
    """One line of the export: its outcome for the report, and, for a readable line, what
    the apply phase writes. The fingerprint is only ever held wrapped (see
    telepoints_compat/legacy_fingerprints.py)."""

    __tablename__ = "migration_entry"

    # No foreign key: checked on each of a million lines, it cost more than writing them.
    # The lines are written by the job's workers only and deleted with it (delete_job).
    job_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    numero_raw: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    motif: Mapped[str | None] = mapped_column(String(200), default=None)
    numero: Mapped[str | None] = mapped_column(String(19), default=None)
    statut: Mapped[str | None] = mapped_column(String(8), default=None)
    issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    scheme: Mapped[str | None] = mapped_column(String(16), default=None)
    salt: Mapped[str | None] = mapped_column(String(32), default=None)
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    digest: Mapped[str | None] = mapped_column(String(64), default=None)
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    mobile: Mapped[str | None] = mapped_column(String(16), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    failures: Mapped[int | None] = mapped_column(Integer, default=None)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


ENTRY_COLUMNS = ("job_id", "line", "numero_raw", "outcome", "motif", "numero", "statut",
                 "issued_on", "scheme", "salt", "key_id", "digest", "issued_at", "expires_at",
                 "mobile", "email", "failures", "locked_until", "created_at", "last_login")
