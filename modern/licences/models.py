"""The licence read model: one row per licence, as the national file last delivered it.

The registry owns this data and always delivers a licence whole, so it is stored whole: the
columns that are looked up or compared (identity, status, balance, update date) plus the
validated record as one JSON document, decoded back into `LicenceRecord` on read. A delivery
replaces a row only when its `dateMiseAJour` is newer.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db
from modern.licences.record import LicenceRecord, decode_record


class Licence(db.Model):  # type: ignore[name-defined]
    __tablename__ = "licence"

    numero: Mapped[str] = mapped_column(String(19), primary_key=True)
    nom: Mapped[str] = mapped_column(String(100))
    prenoms: Mapped[str] = mapped_column(String(200))
    date_naissance: Mapped[dt.date] = mapped_column(Date)
    etat: Mapped[str] = mapped_column(String(10))
    solde: Mapped[int] = mapped_column(SmallInteger)
    date_mise_a_jour: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The record as JSON (UTF-8 bytes), as validated at import.
    document: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def record(self) -> LicenceRecord:
        return decode_record(self.document)
