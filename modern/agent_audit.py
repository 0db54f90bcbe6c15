"""What agents must see in their audit log when a holder acts on the security of a file
(an intruding account closed with "ce n'est pas moi", an account taken over with
FranceConnect).

The audit log belongs to the admin package (`migrations.admin.audit`), which modern may not
import: the composition root installs its `record` as `app.extensions["agent_audit"]`. The
same event always goes to the structured log too, so nothing is lost without it.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from flask import current_app, has_request_context
from sqlalchemy.orm import Session

from modern.logs import request_id_var
from modern.throttling import client_address

EXTENSION = "agent_audit"
ACTOR = "titulaire"  # the holder, acting through a link or a sign-in
log = logging.getLogger("modern.audit")


class AuditRecorder(Protocol):
    def __call__(self, session: Session, *, actor: str, action: str, outcome: str = "ok",
                 target: str | None = None, details: dict[str, Any] | None = None,
                 request_id: str | None = None, client: str | None = None) -> None:
        """Adds an entry to the caller's transaction (flush)."""


def record(session: Session, *, action: str, target: str,
           details: dict[str, Any] | None = None) -> None:
    """One audit entry, in the caller's transaction; `target` is already masked."""
    client = client_address() if has_request_context() else None
    recorder: AuditRecorder | None = current_app.extensions.get(EXTENSION)
    if recorder is not None:
        recorder(session, actor=ACTOR, action=action, target=target, details=details,
                 request_id=request_id_var.get(), client=client)
    else:
        log.warning("holder security action", extra={
            "event": "holder_action", "action": action, "target": target, **(details or {})})
