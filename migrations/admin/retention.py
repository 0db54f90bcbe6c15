"""How long the admin audit log is kept.

`admin_audit` records every admin action and refusal: who (token name), what, on which file
(masked number), from which address. It is kept `RETENTION_LOG_DAYS` (a year by default), to
answer for what agents did during and after the cutover, then deleted. Admin tokens
themselves are few, hold digests only, and are kept (their names are the audit's actors).
"""

from __future__ import annotations

from migrations.admin.models import AdminAudit
from modern.retention import Purge, Rule

audit = AdminAudit.__table__


def old_entries(purge: Purge) -> int:
    return purge.delete(audit, audit.c.at < purge.before(purge.settings.retention_log_days))


RULES = (Rule("admin_audit", old_entries, period="RETENTION_LOG_DAYS"),)
