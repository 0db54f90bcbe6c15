"""The confidential codes of each file, as keyed hashes only.

A file has at most two codes at a time: its current code and, after a request for a new one,
a pending code. The pending code does not cancel the current one (whoever asks for a new code
for somebody else's file must not be able to disable theirs); the first success with the new
code makes it the only one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class ConfidentialCode(db.Model):  # type: ignore[name-defined]
    __tablename__ = "confidential_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    numero: Mapped[str] = mapped_column(String(19), index=True)
    # "hmac-sha256" (issued here), or a legacy fingerprint wrapped in the keyed hash:
    # "legacy-sha1" (with `salt`) or "legacy-md5". See services.py.
    scheme: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))
    salt: Mapped[str | None] = mapped_column(String(32), default=None)
    digest: Mapped[str] = mapped_column(String(64))
    # "agent" (issued at a counter), "demande" (asked by the holder), "legacy" (migrated).
    origin: Mapped[str] = mapped_column(String(10))
    pending: Mapped[bool] = mapped_column(default=False)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Set when the holder has a modern account: the code then proves nothing on the modern
    # web path (it keeps working for legacy clients until the closing date).
    retired_for_modern_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None)
