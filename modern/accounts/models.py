"""Accounts of the modern service, and the server-side web sessions.

One account per file number, enforced by the database (`uq_account_numero`): an account is
the holder's way into one licence. It is reached with FranceConnect (`fc_sub`), with an
e-mail address and a password, or both. An account created with a password is pending until
its address is confirmed; a pending account holds nothing a later sign-up cannot replace.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, LargeBinary, SmallInteger, String
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


# How an account proved that it is the holder's own (possession, not knowledge of what the
# licence prints). Until one of these, the account sees only what the licence shows.
POSSESSION_FRANCECONNECT = "franceconnect"  # FranceConnect, identity matching the licence
POSSESSION_CODE = "code"  # the Télépoints confidential code
POSSESSION_ACTIVATION = "activation"  # the old pages' activation link (given after the code)
POSSESSION_SMS = "sms"  # the activation code sent to the mobile number on file
POSSESSION_LETTER = "courrier"  # the activation code sent to the postal address on file


class AccountPossession(db.Model):  # type: ignore[name-defined]
    """The proof of possession of one account, and the activation code waiting to be typed.

    One row per account, in its own schema branch (`possession`) and without a foreign key
    (see README: each branch stays independent). Ids may be reused after a deletion (SQLite),
    so a proof counts only if made after the account's creation, for the account's file.
    """

    __tablename__ = "account_possession"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    numero: Mapped[str] = mapped_column(String(19), index=True)
    proof: Mapped[str | None] = mapped_column(String(16), default=None)
    proved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The activation code: a keyed hash only (HMAC-SHA256), single use, expiring.
    code_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    code_channel: Mapped[str | None] = mapped_column(String(10), default=None)
    code_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                                default=None)
    # Codes sent on `sends_day` (Paris): a few a day at most, each SMS or letter costs.
    sends_day: Mapped[dt.date | None] = mapped_column(Date, default=None)
    sends: Mapped[int] = mapped_column(SmallInteger, default=0)
