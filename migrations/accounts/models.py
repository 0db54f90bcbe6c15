"""The migration record of a file: its presence is what "already migrated" means.

One row per file number (the primary key), whoever migrated it: a bulk job or the holder's
first use of a legacy client (lazy migration). Both insert it with `ON CONFLICT DO NOTHING`
before writing anything else, so the two paths, and concurrent requests on one path, never
migrate a file twice. The account itself lands where the compatibility layer keeps it: the
code in `confidential_code`, the mobile number in `holder_contact`, failures and lock in the
shared lockout; this row keeps what the legacy system knew and nobody else stores.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

SOURCE_BULK = "bulk"
SOURCE_LAZY = "lazy"


class MigratedAccount(db.Model):  # type: ignore[name-defined]
    __tablename__ = "migrated_account"

    numero: Mapped[str] = mapped_column(String(19), primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # "bulk" or "lazy"
    job_id: Mapped[int | None] = mapped_column(Integer, default=None)  # bulk: the job
    line: Mapped[int | None] = mapped_column(Integer, default=None)  # bulk: line in its file
    migrated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    legacy_statut: Mapped[str] = mapped_column(String(8))  # ACTIF or SUSPENDU
    legacy_issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    legacy_failures: Mapped[int] = mapped_column(Integer, default=0)
    legacy_locked_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    legacy_created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    legacy_last_login: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    # The last day a code of this file proved it to a legacy client here (SOAP or the old web
    # form): its holder still uses Télépoints (legacy_uses.py). This service's own figure,
    # not part of the legacy copy; cleared after RETENTION_LOG_DAYS.
    legacy_used_on: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    # The contact table has no e-mail column; the address is kept here, not lost.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    # False when the legacy code was not carried over: a suspended account (an agent had
    # disabled it), or a file that already held a current code here.
    code_imported: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set at the end of the revert window, when the copy of the legacy data (e-mail, dates,
    # lock) was cleared (migrations/accounts/retention.py): the migration can no longer be
    # reverted.
    legacy_purged_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
