"""Share codes, the looks third parties took with them, and calendar subscriptions.

A share code is kept only as a keyed hash (`code_hash`), like the birth name it must come
with (`name_hash`, keyed with the code too, so the same name gives a different value in every
row). A look keeps the day and time, the code's purpose, and the third party's address cut to
its network (IPv4 /24, IPv6 /48): enough for the holder to recognise it, not a full address.
A calendar subscription is kept as the keyed hash of its secret token.

No foreign key to `account` or `licence`: each package's schema branch stays independent (as
in alerts); the file number is copied from the account.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class ShareCode(db.Model):  # type: ignore[name-defined]
    __tablename__ = "share_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    numero: Mapped[str] = mapped_column(String(19))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))
    notify: Mapped[bool] = mapped_column(Boolean, default=False)  # an e-mail at each look
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)


class ShareLook(db.Model):  # type: ignore[name-defined]
    __tablename__ = "share_look"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    share_id: Mapped[int] = mapped_column(
        ForeignKey("share_code.id", ondelete="CASCADE"), index=True)
    looked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    purpose: Mapped[str] = mapped_column(String(20))
    network: Mapped[str] = mapped_column(String(64))  # e.g. "192.0.2.x", "2001:db8:1::/48"
    channel: Mapped[str] = mapped_column(String(10))  # "web" or "api"


class CalendarFeed(db.Model):  # type: ignore[name-defined]
    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    numero: Mapped[str] = mapped_column(String(19))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    points_in_titles: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)
