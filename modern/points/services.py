"""The points of one licence as every transport shows them: web UI, JSON API, SOAP layer, CLI.

One entry point over the rules engine so that all of them compute the same thing with the
same settings: the reference date is today in Paris unless given, and the spacing between two
course credits comes from the settings (`COURSE_CREDIT_SPACING_DAYS`).
"""

from __future__ import annotations

import datetime as dt

from modern.licences.record import LicenceRecord
from modern.points.rules import PARIS, Bilan, assess
from modern.settings import Settings


def today_in_paris(now: dt.datetime | None = None) -> dt.date:
    """The legal date: French law counts days in French time, not in the server's zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(PARIS).date()


def bilan(record: LicenceRecord, settings: Settings, as_of: dt.date | None = None) -> Bilan:
    """Balance check, forecast and timeline of one licence, as of `as_of` (default: today)."""
    return assess(record, as_of or today_in_paris(),
                  course_spacing_days=settings.course_credit_spacing_days)
