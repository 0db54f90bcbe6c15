"""Alert contacts chosen by holders, and the changes of the national file still to tell them.

`alert_contact`: one row per account and channel (e-mail, SMS), holding the address the
holder confirmed (a message carrying their balance goes only to an address they proved is
theirs). `alert_change`: one row per licence and registry delivery that changed the balance
or status of a licence somebody watches; it is written in the import's own transaction and
marked sent in the transaction that hands its messages to the messaging adapter.

No foreign key to `account` or `licence`: each package's schema branch stays independent (see
modern/accounts/README.md); the file number is copied from the account when it is confirmed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

EMAIL = "email"
SMS = "sms"
CHANNELS = (EMAIL, SMS)


class AlertContact(db.Model):  # type: ignore[name-defined]
    __tablename__ = "alert_contact"
    __table_args__ = (UniqueConstraint("account_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    numero: Mapped[str] = mapped_column(String(19), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    # Lower-cased e-mail address, or an E.164 phone number.
    address: Mapped[str] = mapped_column(String(254))
    # None while the confirmation link has not been followed: no alert goes there.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AlertChange(db.Model):  # type: ignore[name-defined]
    """A change to tell: unique per licence and delivery, so the same change is never
    recorded twice, whatever imports run again."""

    __tablename__ = "alert_change"
    __table_args__ = (
        UniqueConstraint("numero", "date_mise_a_jour"),
        # The dispatcher reads the changes not sent yet, oldest first.
        Index("ix_alert_change_pending", "id", sqlite_where=text("sent_at IS NULL"),
              postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    numero: Mapped[str] = mapped_column(String(19))
    date_mise_a_jour: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    solde_avant: Mapped[int] = mapped_column(SmallInteger)
    solde: Mapped[int] = mapped_column(SmallInteger)
    etat_avant: Mapped[str] = mapped_column(String(10))
    etat: Mapped[str] = mapped_column(String(10))
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    messages: Mapped[int] = mapped_column(SmallInteger, default=0)
