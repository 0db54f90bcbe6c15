"""Admin tokens (kept as SHA-256 digests only) and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class AdminToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "admin_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the token: a token carries 256 random bits, so a fast hash is enough (no
    # guessing possible offline), and a look-up costs one index probe.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)


class AdminAudit(db.Model):  # type: ignore[name-defined]
    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # token name, or "cli:<user>"
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(20))  # "ok", "refused", "error"
    details: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    client: Mapped[str | None] = mapped_column(String(64), default=None)
