"""How long a migrated account keeps its copy of the legacy data: the revert window.

The migration record (`migrated_account`) says that a file was migrated (kept as long as the
account: it is what stops a later export or a legacy request from migrating it twice) and
keeps what the legacy system knew and nobody else stores: the e-mail address, the dates of
creation and last sign-in, the issue date of the code, failures and lock. That copy is what
an agent looks at to decide a revert, and what a reverted file goes back with. Once
`RETENTION_REVERT_DAYS` have passed since the migration, the copy is cleared and the
migration can no longer be reverted (migrations/accounts/services.py refuses it).

The record also keeps the last day a legacy client used the file's code here
(`legacy_used_on`, legacy_uses.py): cleared `RETENTION_LOG_DAYS` after that day, like the
census and the legacy traffic's other figures.
"""

from __future__ import annotations

from sqlalchemy import and_

from migrations.accounts.models import MigratedAccount
from modern.retention import CLEARED, Purge, Rule

account = MigratedAccount.__table__


def legacy_copy(purge: Purge) -> int:
    return purge.clear(account, and_(
        account.c.legacy_purged_at.is_(None),
        account.c.migrated_at < purge.before(purge.settings.retention_revert_days),
    ), {"legacy_purged_at": purge.now, "email": None, "legacy_issued_on": None,
        "legacy_failures": 0, "legacy_locked_until": None, "legacy_created_at": None,
        "legacy_last_login": None})


def legacy_use(purge: Purge) -> int:
    return purge.clear(account, account.c.legacy_used_on < purge.before(
        purge.settings.retention_log_days).date(), {"legacy_used_on": None})


RULES = (Rule("migrated_account.legacy_copy", legacy_copy, action=CLEARED,
              period="RETENTION_REVERT_DAYS"),
         Rule("migrated_account.legacy_used_on", legacy_use, action=CLEARED,
              period="RETENTION_LOG_DAYS"))
