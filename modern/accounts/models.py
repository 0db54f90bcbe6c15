"""Accounts of the modern service, and the server-side web sessions.

One account per file number, enforced by the database (`uq_account_numero`): an account is
the holder's way into one licence. It is reached with FranceConnect (`fc_sub`), with an
e-mail address and a password, or both. An account created with a password is pending until
its address is confirmed; a pending account holds nothing a later sign-up cannot replace.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

# How the holder proved, at creation, that the file is theirs.
PROOF_IDENTITY = "identite"  # birth name, first names and birth date matched the record
PROOF_CODE = "code"  # the Télépoints confidential code, entered on the sign-up form
PROOF_ACTIVATION = "activation"  # the activation link of the old service
PROOF_FRANCECONNECT = "franceconnect"


class Account(db.Model):  # type: ignore[name-defined]
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The licence's file number (checked against the licence records when the account is
    # made; no foreign key: the registry's read model is its own schema branch).
    numero: Mapped[str] = mapped_column(String(19), unique=True)
    # Lower-cased; unique among accounts. None for an account opened with FranceConnect only.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    # FranceConnect's subject for this service (a per-service pseudonym).
    fc_sub: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    fc_linked_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
    proof: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)

    @property
    def active(self) -> bool:
        """Usable: opened with FranceConnect, or its e-mail address confirmed."""
        return self.fc_sub is not None or self.email_confirmed_at is not None


class WebSession(db.Model):  # type: ignore[name-defined]
    """A browser session. The cookie holds a random id; the table keys its SHA-256 only, so
    a copy of the table gives no session away."""

    __tablename__ = "web_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("account.id", ondelete="CASCADE"), index=True, default=None)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
