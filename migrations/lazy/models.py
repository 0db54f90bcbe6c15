"""The cutover switch and the legacy traffic it is decided on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

# What happens to a legacy request for a file not migrated yet, while a legacy backend is
# configured: MIGRATE checks the code there and migrates on success (the default); LEGACY
# (roll back) checks it there and answers, but migrates nothing; OFF never calls the legacy
# backend again (cutover done: it can be switched off).
MODE_MIGRATE, MODE_LEGACY, MODE_OFF = "migration", "legacy", "off"
MODES = (MODE_MIGRATE, MODE_LEGACY, MODE_OFF)


class CutoverSetting(db.Model):  # type: ignore[name-defined]
    __tablename__ = "migration_cutover"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    mode: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))


class LegacyTrafficDay(db.Model):  # type: ignore[name-defined]
    """Legacy requests for files not migrated yet, per day (UTC) and result: what is left
    depending on the legacy backend."""

    __tablename__ = "migration_legacy_traffic"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    result: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
