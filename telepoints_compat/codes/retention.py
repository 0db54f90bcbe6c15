"""How long confidential codes are kept.

- A code past its expiry (`CODE_VALIDITY_DAYS` or `codes issue --valid-days`) proves
  nothing; it is kept `RETENTION_EXPIRED_CODE_DAYS` so that its holder is told it expired
  (`CODE_EXPIRE`) rather than wrong, then deleted.
- A code retired for the modern web (its holder has an account) serves legacy clients only;
  once Télépoints has closed (`TELEPOINTS_SUNSET_DATE`) and `RETENTION_AFTER_CLOSING_DAYS`
  have passed, it serves nothing and is deleted. Codes of holders without an account stay:
  they still prove the file on the modern sign-up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_

from modern.retention import Purge, Rule
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.notice import build_notice

code = ConfidentialCode.__table__


def expired_codes(purge: Purge) -> int:
    return purge.delete(code, and_(
        code.c.expires_at.is_not(None),
        code.c.expires_at < purge.before(purge.settings.retention_expired_code_days)))


def after_closing(purge: Purge) -> bool:
    """Télépoints closed, and the days kept after it passed."""
    closes_at = build_notice(purge.settings).closes_at
    return purge.now >= closes_at + dt.timedelta(
        days=purge.settings.retention_after_closing_days)


def retired_codes(purge: Purge) -> int:
    if not after_closing(purge):
        return 0
    return purge.delete(code, code.c.retired_for_modern_at.is_not(None))


RULES = (
    Rule("confidential_code.expired", expired_codes, period="RETENTION_EXPIRED_CODE_DAYS"),
    Rule("confidential_code.retired", retired_codes, period="RETENTION_AFTER_CLOSING_DAYS"),
)
