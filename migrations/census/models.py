"""Each client of the legacy interface (user agent, source network, SOAP version, channel),
with what it did per day and operation. Never a whole address: a /24 (IPv4) or /48 (IPv6)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class LegacyClient(db.Model):  # type: ignore[name-defined]
    __tablename__ = "legacy_client"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # digest of the four below
    channel: Mapped[str] = mapped_column(String(8))
    user_agent: Mapped[str] = mapped_column(String(200))
    network: Mapped[str] = mapped_column(String(64))
    soap_version: Mapped[str | None] = mapped_column(String(4), default=None)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class LegacyClientDay(db.Model):  # type: ignore[name-defined]
    __tablename__ = "legacy_client_day"

    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    operation: Mapped[str] = mapped_column(String(40), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
