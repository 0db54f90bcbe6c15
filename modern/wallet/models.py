"""What the wallet keeps: each credential issued (its place in the status list, its status)
and each presentation request a verifier made (its nonce, the claims asked, the outcome)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db

# Token Status List values (draft-ietf-oauth-status-list §7.1).
VALID = 0
INVALID = 1


class WalletCredential(db.Model):  # type: ignore[name-defined]
    __tablename__ = "wallet_credential"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    numero: Mapped[str] = mapped_column(String(19), index=True)
    status_list: Mapped[int] = mapped_column(SmallInteger)
    status_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger, default=VALID)
    # Why the status changed: "etat_permis" (a registry import) or "titulaire" (the holder).
    reason: Mapped[str | None] = mapped_column(String(20), default=None)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)


class PresentationRequest(db.Model):  # type: ignore[name-defined]
    __tablename__ = "wallet_presentation_request"

    # The key of the verifier's page: never shown to the wallet, which gets `state` only.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    state: Mapped[str] = mapped_column(String(43), unique=True)
    nonce: Mapped[str] = mapped_column(String(43))
    claims: Mapped[str] = mapped_column(String(200))  # the claim choices, comma-separated
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                            default=None)
    accepted: Mapped[bool | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The disclosed claims, as JSON, shown to the verifier until the request expires.
    disclosed: Mapped[str | None] = mapped_column(Text, default=None)
