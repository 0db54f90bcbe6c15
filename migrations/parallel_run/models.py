"""What the parallel run found: counts per day, kind (operation) and result, and each
mismatch with the masked file number and both values (kept RETENTION_LOG_DAYS)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

MATCH, MISMATCH, UNAVAILABLE, DROPPED = "identique", "different", "indisponible", "abandonne"


class ParallelRunDay(db.Model):  # type: ignore[name-defined]
    __tablename__ = "parallel_run_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    result: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ParallelRunMismatch(db.Model):  # type: ignore[name-defined]
    __tablename__ = "parallel_run_mismatch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    numero: Mapped[str] = mapped_column(String(24))  # masked (modern.logs.mask_numero)
    field: Mapped[str] = mapped_column(String(120))
    here: Mapped[str | None] = mapped_column(String(200), default=None)
    legacy: Mapped[str | None] = mapped_column(String(200), default=None)
