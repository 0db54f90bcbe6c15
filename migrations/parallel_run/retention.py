"""How long the parallel run's findings are kept: the per-day counts hold nothing about
anyone; a mismatch holds a masked file number and two values of a licence record, kept as
long as the other logs of the cutover (`RETENTION_LOG_DAYS`), then deleted."""

from __future__ import annotations

from migrations.parallel_run.models import ParallelRunDay, ParallelRunMismatch
from modern.retention import Purge, Rule

days = ParallelRunDay.__table__
mismatches = ParallelRunMismatch.__table__


def old_days(purge: Purge) -> int:
    return purge.delete(days, days.c.day < purge.before(purge.settings.retention_log_days).date())


def old_mismatches(purge: Purge) -> int:
    return purge.delete(mismatches, mismatches.c.at < purge.before(
        purge.settings.retention_log_days))


RULES = (Rule("parallel_run_day", old_days, period="RETENTION_LOG_DAYS"),
         Rule("parallel_run_mismatch", old_mismatches, period="RETENTION_LOG_DAYS"))
