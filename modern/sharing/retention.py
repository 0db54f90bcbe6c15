"""How long share codes, their looks and stopped calendar subscriptions are kept (RGPD art.
5(1)(e)).

A share code that no longer works (expired, or revoked) is kept `RETENTION_EXPIRED_CODE_DAYS`
past that moment, with its looks, so that the holder can still see who used it; then both
go (the looks first: they point at the code). A stopped calendar subscription is deleted
after the same period.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from modern.retention import Purge, Rule
from modern.sharing.models import CalendarFeed, ShareCode, ShareLook

code = ShareCode.__table__
look = ShareLook.__table__
feed = CalendarFeed.__table__


def _ended(purge: Purge) -> ColumnElement[bool]:
    limit = purge.before(purge.settings.retention_expired_code_days)
    return or_(code.c.expires_at < limit, code.c.revoked_at < limit)


def old_looks(purge: Purge) -> int:
    return purge.delete(look, look.c.share_id.in_(select(code.c.id).where(_ended(purge))))


def old_codes(purge: Purge) -> int:
    return purge.delete(code, _ended(purge))


def stopped_feeds(purge: Purge) -> int:
    return purge.delete(feed, feed.c.revoked_at < purge.before(
        purge.settings.retention_expired_code_days))


RULES = (Rule("share_look.ended", old_looks, period="RETENTION_EXPIRED_CODE_DAYS"),
         Rule("share_code.ended", old_codes, period="RETENTION_EXPIRED_CODE_DAYS"),
         Rule("calendar_feed.stopped", stopped_feeds, period="RETENTION_EXPIRED_CODE_DAYS"))
