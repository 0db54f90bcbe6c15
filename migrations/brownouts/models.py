"""A planned window during which a share of the legacy requests is answered SERVICE_CLOS."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db


class BrownoutWindow(db.Model):  # type: ignore[name-defined]
    __tablename__ = "brownout_window"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    share: Mapped[float] = mapped_column(Float)  # 0 < share <= 1
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
