"""The contact details on file for each holder.

The registry record carries no phone number and no address, so the compatibility layer keeps
its own: filled by the migration of the legacy account export (its TELEPHONE column) and, for
demonstrations, by `flask demo seed`. A code is sent by SMS when a mobile number is known, by
letter to the postal address otherwise.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class HolderContact(db.Model):  # type: ignore[name-defined]
    __tablename__ = "holder_contact"

    numero: Mapped[str] = mapped_column(String(19), primary_key=True)
    mobile: Mapped[str | None] = mapped_column(String(16), default=None)  # E.164, +33…
    # Postal address without the name, one line per line (the name comes from the registry).
    address: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str] = mapped_column(String(10))  # "legacy", "demo", "agent"
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
