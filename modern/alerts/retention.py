"""How long the changes told to holders are kept.

An `alert_change` row holds a file number and its balance and status before and after a
registry delivery. Once told (`sent_at`), it only guards against telling the same change
twice, which the registry import already prevents (a delivery is applied once: a re-import
of the same data replaces nothing and records no change). It is deleted
`RETENTION_MESSAGE_DAYS` after it was told. A change not told yet is the dispatcher's queue
and stays (`flask alerts pending` shows it).
"""

from __future__ import annotations

from sqlalchemy import and_

from modern.alerts.models import AlertChange
from modern.retention import Purge, Rule

change = AlertChange.__table__


def told_changes(purge: Purge) -> int:
    return purge.delete(change, and_(
        change.c.sent_at.is_not(None),
        change.c.sent_at < purge.before(purge.settings.retention_message_days)))


RULES = (Rule("alert_change.sent", told_changes, period="RETENTION_MESSAGE_DAYS"),)
