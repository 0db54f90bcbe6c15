"""The audit log of admin actions (ASVS 5, 16.3.2 and 16.3.3): who, what, on what, with which
outcome, when (UTC), from where, under which request id. Never a token or a full file number
in the details; the target of an account action is masked as in the logs."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from migrations.admin.models import AdminAudit

log = logging.getLogger("telepoints.admin")


def record(session: Session, *, actor: str, action: str, outcome: str = "ok",
           target: str | None = None, details: dict[str, Any] | None = None,
           request_id: str | None = None, client: str | None = None) -> None:
    """Adds the entry to the caller's transaction (flush) and emits the same event in the
    structured log, so that a refused action, whose transaction is rolled back, is still
    traced: refusals are written on their own by the caller (see api.py)."""
    session.add(AdminAudit(at=dt.datetime.now(dt.UTC), actor=actor[:64], action=action[:40],
                           target=target[:64] if target else None, outcome=outcome[:20],
                           details=details, request_id=request_id,
                           client=client[:64] if client else None))
    session.flush()
    log.info("admin action", extra={"event": "admin_action", "actor": actor,
                                    "action": action, "target": target, "outcome": outcome})
