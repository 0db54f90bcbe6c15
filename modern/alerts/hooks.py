"""The alerts' part in registry imports (`ImportHooks`): keep the changes of watched licences
in each batch's transaction, then, once the extract is in, tell them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from modern.alerts import services
from modern.licences.importer import Change
from modern.messaging import messenger


class AlertHooks:
    def __init__(self, links: services.Links) -> None:
        self.links = links

    def changed(self, session: Session, changes: Sequence[Change]) -> None:
        services.record_changes(session, changes)  # the importer commits the batch

    def finished(self, session: Session) -> str | None:
        total = send_pending(session, self.links)
        return (f"alerts: {total.changes} change(s) told in {total.messages} message(s)"
                if total.changes else None)


def send_pending(session: Session, links: services.Links) -> services.Dispatched:
    """Tells every pending change, one committed batch at a time (a job's entry point)."""
    changes = sent = 0
    while True:
        try:
            batch = services.dispatch(session, messenger(), links)
            session.commit()
        except Exception:
            session.rollback()
            raise
        if not batch.changes:
            return services.Dispatched(changes, sent)
        changes += batch.changes
        sent += batch.messages
