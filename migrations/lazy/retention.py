"""How long the per-day counts of legacy traffic are kept.

`migration_legacy_traffic` counts, per day and result, the legacy requests that still needed
the legacy backend: no file number, no address, nothing about anyone. The cutover panel
shows the last 14 days; a year (`RETENTION_LOG_DAYS`) keeps the history of the cutover.
"""

from __future__ import annotations

from migrations.lazy.models import LegacyTrafficDay
from modern.retention import Purge, Rule

traffic = LegacyTrafficDay.__table__


def old_days(purge: Purge) -> int:
    since = purge.before(purge.settings.retention_log_days).date()
    return purge.delete(traffic, traffic.c.day < since)


RULES = (Rule("migration_legacy_traffic", old_days, period="RETENTION_LOG_DAYS"),)
