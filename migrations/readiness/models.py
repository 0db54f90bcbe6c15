"""The holders told that Télépoints closes (notify-holders): once each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class HolderNotice(db.Model):  # type: ignore[name-defined]
    __tablename__ = "holder_closing_notice"

    numero: Mapped[str] = mapped_column(String(19), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # "sms", "letter"
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
